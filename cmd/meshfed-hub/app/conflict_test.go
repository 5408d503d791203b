package app

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// gsConflicts is the Conflict condition and the conflicts of one GlobalService on the hub.
type gsConflicts struct {
	cond      *metav1.Condition
	conflicts []meshfedv1.ServiceConflict
	spec      meshfedv1.GlobalServiceSpec
}

func readConflicts(t *testing.T, c client.Client, ns, name string) (gsConflicts, error) {
	t.Helper()
	var gs meshfedv1.GlobalService
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &gs); err != nil {
		return gsConflicts{}, err
	}
	return gsConflicts{
		cond:      meta.FindStatusCondition(gs.Status.Conditions, string(meshfedv1.GlobalServiceConditionConflict)),
		conflicts: gs.Status.Conflicts,
		spec:      gs.Spec,
	}, nil
}

func (g gsConflicts) String() string {
	return fmt.Sprintf("condition %+v conflicts %+v", g.cond, g.conflicts)
}

// reasons lists the reasons of the conflicts, in status order.
func (g gsConflicts) reasons() []string {
	var out []string
	for _, c := range g.conflicts {
		out = append(out, c.Reason)
	}
	return out
}

// namesBoth reports whether s names both clusters.
func namesBoth(s string) bool { return strings.Contains(s, "east-1") && strings.Contains(s, "west-1") }

// TestConflictCondition exports one Service from two members that disagree on a port's
// appProtocol and on the traffic distribution: the GlobalService on the hub reports both MCS
// conflicts, naming both clusters, with Conflict=True; the port falls back to plain TCP and the
// mode to the default. Fixing each disagreement clears its conflict, then the condition.
func TestConflictCondition(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	east, west := env.members["east-1"].Client, env.members["west-1"].Client
	annotations := func(mode string) map[string]string {
		return map[string]string{wellknown.ServiceScopeKey: "global", wellknown.TrafficDistributionKey: mode}
	}
	ports := func(appProtocol string) []corev1.ServicePort {
		return []corev1.ServicePort{{Name: "http", Port: 80, AppProtocol: ptr.To(appProtocol)}}
	}
	createService(t, east, "shop", "web", annotations("PreferRegion"), ports("http"), "10.244.1.5")
	createService(t, west, "shop", "web", annotations("PreferCluster"), ports("kubernetes.io/h2c"), "10.244.2.5")

	var got gsConflicts
	eventually(t, "both conflicts on GlobalService shop/web", func() (bool, string) {
		var err error
		got, err = readConflicts(t, env.hub.Client, "shop", "web")
		if err != nil {
			return false, err.Error()
		}
		return slices.Equal(got.reasons(), []string{"PortConflict", "TrafficDistributionConflict"}), got.String()
	})
	for _, c := range got.conflicts {
		if !slices.Equal(c.Clusters, []string{"east-1", "west-1"}) || !namesBoth(c.Message) {
			t.Errorf("conflict %s: clusters %v, message %q; want both clusters named", c.Reason, c.Clusters, c.Message)
		}
	}
	if c := got.cond; c == nil || c.Status != metav1.ConditionTrue || c.Reason != string(meshfedv1.GlobalServiceReasonPortConflict) || !namesBoth(c.Message) {
		t.Errorf("Conflict condition %+v, want True, PortConflict, naming both clusters", c)
	}
	if p := got.spec.Ports; len(p) != 1 || p[0].Port != 80 || p[0].AppProtocol != "" || p[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("merged ports %+v, want 80/TCP without appProtocol", p)
	}
	if got.spec.TrafficDistribution != "PreferNetwork" {
		t.Errorf("traffic distribution %q, want the default PreferNetwork", got.spec.TrafficDistribution)
	}

	// Agreeing on the port leaves the distribution conflict alone.
	update(t, west, "shop", "web", func(s *corev1.Service) { s.Spec.Ports[0].AppProtocol = ptr.To("http") })
	eventually(t, "only the traffic distribution conflict left", func() (bool, string) {
		var err error
		got, err = readConflicts(t, env.hub.Client, "shop", "web")
		if err != nil {
			return false, err.Error()
		}
		c := got.cond
		return slices.Equal(got.reasons(), []string{"TrafficDistributionConflict"}) && c != nil && c.Status == metav1.ConditionTrue &&
			c.Reason == string(meshfedv1.GlobalServiceReasonTrafficDistributionConflict) && namesBoth(c.Message), got.String()
	})
	if p := got.spec.Ports; len(p) != 1 || p[0].AppProtocol != "http" {
		t.Errorf("merged ports %+v after the fix, want appProtocol http", p)
	}

	// Agreeing on the mode clears the condition.
	update(t, west, "shop", "web", func(s *corev1.Service) { s.Annotations = annotations("PreferRegion") })
	eventually(t, "Conflict=False", func() (bool, string) {
		var err error
		got, err = readConflicts(t, env.hub.Client, "shop", "web")
		if err != nil {
			return false, err.Error()
		}
		c := got.cond
		return len(got.conflicts) == 0 && c != nil && c.Status == metav1.ConditionFalse && c.Reason == string(meshfedv1.GlobalServiceReasonNoConflict), got.String()
	})
	if got.spec.TrafficDistribution != "PreferRegion" {
		t.Errorf("traffic distribution %q after the fix, want PreferRegion", got.spec.TrafficDistribution)
	}
}

// update changes a Service in a member.
func update(t *testing.T, c client.Client, ns, name string, change func(*corev1.Service)) {
	t.Helper()
	var svc corev1.Service
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &svc); err != nil {
		t.Fatal(err)
	}
	change(&svc)
	if err := c.Update(t.Context(), &svc); err != nil {
		t.Fatal(err)
	}
}
