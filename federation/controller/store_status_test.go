package controller

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// TestStoreFailuresReported: a record the store did not take turns the service's Stored
// condition False and becomes Warning Events on the Services it came from — the endpoints
// record's own cluster, or every exporter for the service record — and nothing for the others.
func TestStoreFailuresReported(t *testing.T) {
	d := wellknown.DefaultSegmentDomain
	svc := func(name string) merge.Service {
		return merge.Service{Global: model.GlobalService{Namespace: "shop", Name: name, Domain: d,
			Exporters: []model.Exporter{{Cluster: "east"}, {Cluster: "west"}}}}
	}
	res := merge.Result{Services: []merge.Service{svc("big"), svc("fine"), svc("meta")}}
	tooLarge := fmt.Errorf("%w: 3 MiB", store.ErrRecordTooLarge)
	failures := StoreFailures{
		{Namespace: "shop", Domain: d, Name: "big"}:  {{Key: store.EndpointsKey("shop", d, "big", "west"), Err: tooLarge}},
		{Namespace: "shop", Domain: d, Name: "meta"}: {{Key: store.ServiceKey("shop", d, "meta"), Err: tooLarge}},
	}

	var got []string
	for _, p := range storeProblems(&res, failures) {
		if p.Reason != meshfedv1.GlobalServiceReasonNotStored {
			t.Errorf("reason %s, want NotStored", p.Reason)
		}
		got = append(got, p.Cluster+"/"+p.Service.Name)
	}
	if want := "west/big east/meta west/meta"; strings.Join(got, " ") != want {
		t.Errorf("events on %v, want %s", got, want)
	}

	for _, tt := range []struct {
		name   string
		failed []*store.RecordError
		status metav1.ConditionStatus
		msg    string
	}{
		{"all stored", nil, metav1.ConditionTrue, "every record"},
		{"endpoints", failures[merge.Key{Namespace: "shop", Domain: d, Name: "big"}], metav1.ConditionFalse, "the endpoints of cluster west"},
		{"service", failures[merge.Key{Namespace: "shop", Domain: d, Name: "meta"}], metav1.ConditionFalse, "the service record"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gs := &meshfedv1.GlobalService{}
			setStoredStatus(gs, tt.failed)
			c := meta.FindStatusCondition(gs.Status.Conditions, string(meshfedv1.GlobalServiceConditionStored))
			if c == nil || c.Status != tt.status || !strings.Contains(c.Message, tt.msg) {
				t.Fatalf("Stored condition %+v, want %s with %q", c, tt.status, tt.msg)
			}
		})
	}
}
