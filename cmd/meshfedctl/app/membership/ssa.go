package membership

import (
	"context"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// FieldManager is meshfedctl's server-side apply field manager.
const FieldManager = "meshfedctl"

// Apply server-side applies desired (which must carry its apiVersion and kind, see SetKind),
// refusing an existing object without meshfed's managed-by label, and prints whether the
// object was created, configured or unchanged. Applying the same object again changes nothing,
// whatever defaults the server filled in.
func Apply(ctx context.Context, c client.Client, side string, desired client.Object, out io.Writer) error {
	cur, ok := desired.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("failed to copy %T", desired)
	}
	before := ""
	switch err := c.Get(ctx, client.ObjectKeyFromObject(desired), cur); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("failed to get %s %s in %s: %w", kindOf(desired), key(desired), side, err)
	case cur.GetLabels()[wellknown.ManagedByLabel] != wellknown.ManagedByValue:
		return fmt.Errorf("failed to apply %s %s in %s: %w", kindOf(desired), key(desired), side, ErrNotOwned)
	default:
		before = cur.GetResourceVersion()
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(desired)
	if err != nil {
		return fmt.Errorf("failed to convert %s %s: %w", kindOf(desired), key(desired), err)
	}
	delete(u, "status")
	unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
	obj := &unstructured.Unstructured{Object: u}
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply %s %s in %s: %w", kindOf(desired), key(desired), side, err)
	}
	result := "created"
	if before != "" {
		if err := c.Get(ctx, client.ObjectKeyFromObject(desired), cur); err != nil {
			return fmt.Errorf("failed to read back %s %s in %s: %w", kindOf(desired), key(desired), side, err)
		}
		result = "configured"
		if before == cur.GetResourceVersion() {
			result = "unchanged"
		}
	}
	_, err = fmt.Fprintf(out, "%-7s %s/%s %s\n", side, kindOf(desired), key(desired), result)
	return err
}
