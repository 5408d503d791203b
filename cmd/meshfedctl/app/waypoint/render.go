package waypoint

import (
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
)

// WriteYAML writes objs as a stream of YAML documents with apiVersion and kind set, without the
// empty status and creation timestamps a typed object marshals, so the output is what apply
// sends and what kubectl apply accepts.
func WriteYAML(w io.Writer, objs []client.Object) error {
	scheme, err := membership.Scheme()
	if err != nil {
		return err
	}
	for _, obj := range objs {
		obj, ok := obj.DeepCopyObject().(client.Object)
		if !ok {
			return fmt.Errorf("failed to copy %T", obj)
		}
		if err := membership.SetKind(obj, scheme); err != nil {
			return err
		}
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return fmt.Errorf("failed to convert %T %s: %w", obj, obj.GetName(), err)
		}
		delete(u, "status")
		unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(u, "spec", "template", "metadata", "creationTimestamp")
		b, err := yaml.Marshal(u)
		if err != nil {
			return fmt.Errorf("failed to render %T %s as YAML: %w", obj, obj.GetName(), err)
		}
		if _, err := fmt.Fprintf(w, "---\n%s", b); err != nil {
			return err
		}
	}
	return nil
}
