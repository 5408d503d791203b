package app

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// TestLoadPolicyReachesStore: the hub reads a member Service's load policy (remote endpoints
// included) into the store's service record; an invalid setting is a Warning Event (InvalidLoadPolicy) on that Service and
// leaves only that setting at the default; the oldest export's policy wins over another
// member's, reported as a LoadPolicyConflict.
func TestLoadPolicyReachesStore(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	east, west := env.members["east-1"].Client, env.members["west-1"].Client
	export(t, east, "shop", "web", "global", "10.244.1.5")
	annotateService(t, east, "shop", "web", map[string]string{
		wellknown.OverprovisioningFactorKey: "200", wellknown.PanicThresholdKey: "half", wellknown.RemoteEndpointsKey: "aggregated",
	})
	export(t, west, "shop", "web", "global", "10.244.2.5")
	annotateService(t, west, "shop", "web", map[string]string{wellknown.OverprovisioningFactorKey: "150"})

	eventually(t, "the load policy of east-1 (the oldest export) in the store", func() (bool, string) {
		r, ok := env.service(t, "shop", "web")
		if !ok {
			return false, "no service record"
		}
		m := r.Model()
		var reasons []model.ConflictReason
		for _, c := range m.Conflicts {
			reasons = append(reasons, c.Reason)
		}
		policy := "none"
		if m.Load != nil {
			policy = m.Load.String()
		}
		return policy == "overprovisioning-factor=200,remote-endpoints=aggregated" && slices.Contains(reasons, model.ReasonLoadPolicyConflict),
			fmt.Sprintf("policy %s conflicts %v", policy, reasons)
	})
	eventually(t, "an InvalidLoadPolicy Warning Event on east-1's shop/web", func() (bool, string) {
		var list corev1.EventList
		if err := east.List(t.Context(), &list, client.InNamespace("shop")); err != nil {
			return false, err.Error()
		}
		for _, e := range list.Items {
			if e.InvolvedObject.Name == "web" && e.Type == corev1.EventTypeWarning && e.Reason == string(meshfedv1.GlobalServiceReasonInvalidLoadPolicy) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(list.Items))
	})
}

// annotateService adds annotations to ns/name in a member.
func annotateService(t *testing.T, c client.Client, ns, name string, annotations map[string]string) {
	t.Helper()
	var svc corev1.Service
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &svc); err != nil {
		t.Fatal(err)
	}
	for k, v := range annotations {
		svc.Annotations[k] = v
	}
	if err := c.Update(t.Context(), &svc); err != nil {
		t.Fatal(err)
	}
}
