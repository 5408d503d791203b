package app

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestNamespaceBeingDeletedFailsAlone: an import whose namespace is being deleted in the member
// (the API server refuses new objects there) must not hold up the member's other imports. The
// test API servers run no namespace controller, so a deleted namespace stays Terminating. The
// MCS conformance suite deletes each spec's namespace while the next spec runs: before, the hub
// retried the refused write and never reached the next namespace's import or conditions.
func TestNamespaceBeingDeletedFailsAlone(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	east, west := env.members["east-1"].Client, env.members["west-1"].Client
	ctx := t.Context()
	gone := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gone"}}
	if err := east.Create(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := east.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	eventually(t, "namespace gone Terminating in east-1", func() (bool, string) {
		var ns corev1.Namespace
		err := east.Get(ctx, client.ObjectKey{Name: "gone"}, &ns)
		return err == nil && ns.DeletionTimestamp != nil, fmt.Sprint(err, ns.Status.Phase)
	})
	export(t, west, "gone", "api", "global", "10.244.2.5") // sorts before shop: written first
	export(t, west, "shop", "web", "global", "10.244.2.6")
	if err := east.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	within(t, 20*time.Second, "shop/web imported in east-1 next to a namespace being deleted", func() (bool, string) {
		got := importedIn(t, east, "shop", "web")
		return got.err == nil && len(got.si.Spec.IPs) == 1, fmt.Sprintf("%v %+v", got.err, got.si.Spec)
	})
	if got := importedIn(t, east, "gone", "api"); got.err == nil {
		t.Errorf("gone/api imported into a namespace being deleted: %+v", got.si)
	}
}
