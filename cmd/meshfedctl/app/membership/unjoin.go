package membership

import (
	"context"
	"fmt"
	"io"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/writeback"
)

// Unjoin removes everything Join created, hub side first so the hub lets go of the member
// before its credentials go away, then what the hub wrote into the member (ServiceImports and
// derived Services carrying meshfed's labels), then the member's ServiceAccount and RBAC.
// Objects meshfed does not own are kept and reported.
func Unjoin(ctx context.Context, hub, memberClient client.Client, o Options, out io.Writer) error {
	hubObjs := HubObjects(o, nil)
	slices.Reverse(hubObjs)
	for _, obj := range hubObjs {
		if err := Remove(ctx, hub, "hub", obj, out); err != nil {
			return err
		}
	}
	if memberClient != nil {
		if err := writeback.RemoveAll(ctx, memberClient); err != nil {
			return fmt.Errorf("failed to remove imports from member %s: %w", o.Name, err)
		}
		if _, err := fmt.Fprintf(out, "%-7s imports and derived Services removed\n", "member"); err != nil {
			return err
		}
		memberObjs := MemberObjects()
		slices.Reverse(memberObjs)
		for _, obj := range memberObjs {
			if err := Remove(ctx, memberClient, "member", obj, out); err != nil {
				return err
			}
		}
	}
	_, err := fmt.Fprintf(out, "unjoined %s\n", o.Name)
	return err
}

// hubNamespace is the namespace of the hub's own objects, created by the first join.
func hubNamespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue}}}
}
