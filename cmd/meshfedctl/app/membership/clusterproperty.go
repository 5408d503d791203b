package membership

import (
	"context"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// ClusterPropertyKind is the MCS ClusterProperty (KEP-2149, group about.k8s.io); deploy/mcs
// holds its CRD.
var ClusterPropertyKind = schema.GroupVersionKind{Group: "about.k8s.io", Version: "v1alpha1", Kind: "ClusterProperty"}

// clusterProperty is the ClusterProperty cluster.clusterset.k8s.io as join writes it.
func clusterProperty(clusterID string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ClusterPropertyKind)
	u.SetName(wellknown.ClusterIDProperty)
	u.SetLabels(managedLabels())
	_ = unstructured.SetNestedField(u.Object, clusterID, "spec", "value")
	return u
}

// ensureClusterProperty writes the member's ClusterProperty cluster.clusterset.k8s.io with its
// cluster ID when the member has none, and marks it used by owner when meshfed wrote it. An
// existing value is never overwritten: one that differs from the cluster ID is reported and
// kept. A member that does not serve the ClusterProperty API is reported and skipped.
func ensureClusterProperty(ctx context.Context, c client.Client, clusterID, owner string, out io.Writer) error {
	name := "ClusterProperty/" + wellknown.ClusterIDProperty
	cur := &unstructured.Unstructured{}
	cur.SetGroupVersionKind(ClusterPropertyKind)
	err := c.Get(ctx, client.ObjectKey{Name: wellknown.ClusterIDProperty}, cur)
	switch {
	case meta.IsNoMatchError(err):
		_, err = fmt.Fprintf(out, "%-7s %s skipped: the member does not serve %s (apply deploy/mcs)\n", "member", name, ClusterPropertyKind.GroupVersion())
		return err
	case apierrors.IsNotFound(err):
		desired := clusterProperty(clusterID)
		desired.SetAnnotations(addOwner(nil, owner))
		if err := c.Create(ctx, desired); err != nil {
			return fmt.Errorf("failed to create %s in member: %w", name, err)
		}
		_, err = fmt.Fprintf(out, "%-7s %s created (value %s)\n", "member", name, clusterID)
		return err
	case err != nil:
		return fmt.Errorf("failed to get %s in member: %w", name, err)
	}
	value, _, _ := unstructured.NestedString(cur.Object, "spec", "value")
	if value != clusterID {
		_, err = fmt.Fprintf(out, "%-7s %s kept: its value %q is not the cluster ID %s (meshfed identifies the cluster by %s)\n",
			"member", name, value, clusterID, clusterID)
		return err
	}
	if cur.GetLabels()[wellknown.ManagedByLabel] != wellknown.ManagedByValue {
		_, err = fmt.Fprintf(out, "%-7s %s unchanged (not managed by meshfed)\n", "member", name)
		return err
	}
	next := cur.DeepCopy()
	next.SetAnnotations(addOwner(cur.GetAnnotations(), owner))
	result := "unchanged"
	if next.GetAnnotations()[wellknown.OwnersAnnotation] != cur.GetAnnotations()[wellknown.OwnersAnnotation] {
		if err := c.Update(ctx, next); err != nil {
			return fmt.Errorf("failed to update %s in member: %w", name, err)
		}
		result = "configured"
	}
	_, err = fmt.Fprintf(out, "%-7s %s %s\n", "member", name, result)
	return err
}
