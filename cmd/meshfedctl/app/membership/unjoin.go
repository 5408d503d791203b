package membership

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/writeback"
)

// ErrOtherCluster is returned by an unjoin whose member context is not the cluster the
// member was joined as.
var ErrOtherCluster = errors.New("the member context is another cluster")

// Unjoin removes what Join created for this join (see JoinID), hub side first so the hub lets
// go of the member before its credentials go away. In the member it removes the join's entry
// from the owners of each object join wrote there and deletes an object only when no other
// join still uses it; what the hub wrote there (ServiceImports and derived Services carrying
// meshfed's labels) is removed only when this was the cluster's last join, since another
// hub may have written them (its own write-back prunes what it does not want). Objects meshfed
// does not own are kept and reported. A member context that is not the cluster the member
// was joined as is refused before anything changes.
func Unjoin(ctx context.Context, hub, memberClient client.Client, o Options, out io.Writer) error {
	hubID, err := ClusterID(ctx, hub, "the hub")
	if err != nil {
		return err
	}
	if memberClient != nil {
		if err := checkSameCluster(ctx, hub, memberClient, o.Name); err != nil {
			return err
		}
	}
	hubObjs := HubObjects(o, nil)
	slices.Reverse(hubObjs)
	for _, obj := range hubObjs {
		if err := Remove(ctx, hub, "hub", obj, out); err != nil {
			return err
		}
	}
	if memberClient != nil {
		if err := unjoinMember(ctx, memberClient, o.Name, JoinID(o.Name, hubID), out); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(out, "unjoined %s\n", o.Name)
	return err
}

// checkSameCluster refuses an unjoin whose member context is not the cluster the hub knows as
// member name; a member the hub has no cluster ID for (or no longer has) is not checked.
func checkSameCluster(ctx context.Context, hub, memberClient client.Client, name string) error {
	var mc meshfedv1.MemberCluster
	if err := hub.Get(ctx, client.ObjectKey{Name: name}, &mc); apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("failed to read membercluster %s on the hub: %w", name, err)
	}
	want := clusterIDOf(&mc)
	if want == "" {
		return nil
	}
	got, err := ClusterID(ctx, memberClient, "the member")
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("failed to unjoin %s: member %s is cluster %s, the member context is cluster %s; nothing was changed: %w", name, name, want, got, ErrOtherCluster)
	}
	return nil
}

// unjoinMember releases the join's hold on what it and the hub wrote into the member.
func unjoinMember(ctx context.Context, c client.Client, name, join string, out io.Writer) error {
	others, err := otherJoins(ctx, c, join)
	if err != nil {
		return err
	}
	if len(others) == 0 {
		if err := writeback.RemoveAll(ctx, c); err != nil {
			return fmt.Errorf("failed to remove imports from member %s: %w", name, err)
		}
		_, err = fmt.Fprintf(out, "%-7s imports and derived Services removed\n", "member")
	} else {
		_, err = fmt.Fprintf(out, "%-7s imports and derived Services kept: the cluster is still joined as %v\n", "member", others)
	}
	if err != nil {
		return err
	}
	objs := append([]client.Object{clusterProperty("")}, MemberObjects()...)
	slices.Reverse(objs[1:])
	for _, obj := range objs {
		if err := Release(ctx, c, "member", obj, join, out); err != nil {
			return err
		}
	}
	return nil
}

// otherJoins lists the joins other than join that use the member, by the owners of the hub's
// ServiceAccount there; none for a member whose ServiceAccount is gone or predates ownership
// marks.
func otherJoins(ctx context.Context, c client.Client, join string) ([]string, error) {
	var sa corev1.ServiceAccount
	err := c.Get(ctx, client.ObjectKey{Namespace: wellknown.SystemNamespace, Name: MemberServiceAccount}, &sa)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to get serviceaccount %s/%s in member: %w", wellknown.SystemNamespace, MemberServiceAccount, err)
	}
	if sa.Labels[wellknown.ManagedByLabel] != wellknown.ManagedByValue {
		return nil, nil
	}
	return releaseOwner(sa.Annotations, join).others, nil
}

// Release is Remove for an object joins share: it removes join from the object's owners and
// deletes the object only when no other join is left, printing what happened. An object
// meshfed does not own is kept; a member that does not serve its kind counts as not having it.
func Release(ctx context.Context, c client.Client, side string, obj client.Object, join string, out io.Writer) error {
	name := objectName(obj)
	err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	switch {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		_, err = fmt.Fprintf(out, "%-7s %s absent\n", side, name)
		return err
	case err != nil:
		return fmt.Errorf("failed to get %s in %s: %w", name, side, err)
	case obj.GetLabels()[wellknown.ManagedByLabel] != wellknown.ManagedByValue:
		_, err = fmt.Fprintf(out, "%-7s %s kept (not managed by meshfed)\n", side, name)
		return err
	}
	r := releaseOwner(obj.GetAnnotations(), join)
	if !r.del {
		obj.SetAnnotations(r.annotations)
		if err := c.Update(ctx, obj); err != nil {
			return fmt.Errorf("failed to release %s in %s: %w", name, side, err)
		}
		_, err = fmt.Fprintf(out, "%-7s %s kept (still used by %v)\n", side, name, r.others)
		return err
	}
	uid := obj.GetUID()
	if err := c.Delete(ctx, obj, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to delete %s in %s: %w", name, side, err)
	}
	_, err = fmt.Fprintf(out, "%-7s %s deleted\n", side, name)
	return err
}

// objectName is "<Kind>/<namespace/name>" for output.
func objectName(obj client.Object) string {
	if kind := obj.GetObjectKind().GroupVersionKind().Kind; kind != "" {
		return kind + "/" + key(obj)
	}
	return kindOf(obj) + "/" + key(obj)
}

// hubNamespace is the namespace of the hub's own objects, created by the first join.
func hubNamespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue}}}
}
