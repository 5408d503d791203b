package membership

import (
	"context"
	"io"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// TestEnsureRetriesConflicts: when the hub writes a MemberCluster between join's read and its
// update, join reads it again and applies its spec instead of failing; a conflict that never
// ends still fails.
func TestEnsureRetriesConflicts(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := meshfedv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	existing := &meshfedv1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "blue-2", Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue}},
		Spec:       meshfedv1.MemberClusterSpec{Segment: "default"},
	}
	desired := existing.DeepCopy()
	desired.Spec.Segment = "blue"
	for _, tt := range []struct {
		name      string
		conflicts int
		wantErr   bool
	}{{"one conflict", 1, false}, {"conflicts without end", 1000, true}} {
		t.Run(tt.name, func(t *testing.T) {
			left := tt.conflicts
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(existing.DeepCopy()).WithInterceptorFuncs(interceptor.Funcs{
				Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
					if left > 0 {
						left--
						return apierrors.NewConflict(schema.GroupResource{Group: "meshfed.io", Resource: "memberclusters"}, obj.GetName(), nil)
					}
					return c.Update(ctx, obj, opts...)
				},
			}).Build()
			err := Ensure(t.Context(), c, "hub", desired, "", io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Ensure: %v, want error %v", err, tt.wantErr)
			}
			var got meshfedv1.MemberCluster
			if err := c.Get(t.Context(), client.ObjectKeyFromObject(desired), &got); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{false: "blue", true: "default"}[tt.wantErr]; got.Spec.Segment != want {
				t.Errorf("segment %q, want %q", got.Spec.Segment, want)
			}
		})
	}
}
