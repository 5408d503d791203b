package app

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
)

// TestInvalidAnnotationWarns: a Service with an unknown scope gets one Warning Event in its
// member cluster (not one per pass) and is not exported, while other services keep federating.
func TestInvalidAnnotationWarns(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	east := env.members["east-1"].Client
	export(t, east, "shop", "web", "global", "10.244.1.5")
	export(t, east, "shop", "bad", "planet", "10.244.1.6")
	export(t, env.members["west-1"].Client, "shop", "web", "global", "10.244.2.5")

	// warnings lists the hub's Warning Events on shop/bad; a failed List is returned, not
	// fatal, so a poll retries it.
	warnings := func() ([]corev1.Event, error) {
		var list corev1.EventList
		if err := east.List(t.Context(), &list, client.InNamespace("shop")); err != nil {
			return nil, err
		}
		var out []corev1.Event
		for _, e := range list.Items {
			// The API server's own repair loops may warn about the same Service (for
			// example "Cluster IP ... is not allocated; repairing" on a loaded machine);
			// only the hub's Events count here.
			if e.InvolvedObject.Kind == "Service" && e.InvolvedObject.Name == "bad" && e.Type == corev1.EventTypeWarning &&
				e.Source.Component == "meshfed-hub" {
				out = append(out, e)
			}
		}
		return out, nil
	}
	var e corev1.Event
	eventually(t, "a Warning Event on Service shop/bad", func() (bool, string) {
		w, err := warnings()
		if len(w) == 1 {
			e = w[0]
		}
		return err == nil && len(w) == 1, fmt.Sprintf("%d events, %v", len(w), err)
	})
	if e.Reason != string(meshfedv1.GlobalServiceReasonInvalidScope) {
		t.Errorf("event %s/%s: %s", e.Reason, e.Source.Component, e.Message)
	}
	eventually(t, "web federated from both members", func() (bool, string) {
		got := env.endpointClusters(t, "shop", "web")
		return slices.Equal(got, []string{"east-1", "west-1"}), fmt.Sprint(got)
	})
	if _, ok := env.service(t, "shop", "bad"); ok {
		t.Error("a Service with an invalid scope was exported")
	}
	// Several resync passes later, the problem is still reported once.
	time.Sleep(5 * time.Second)
	if w, err := warnings(); err != nil || len(w) != 1 {
		t.Errorf("%d Warning Events after resyncs (%v), want 1", len(w), err)
	}
}
