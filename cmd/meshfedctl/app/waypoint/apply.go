package waypoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
)

// ErrNoNamespace is returned when the waypoint's namespace does not exist: apply never creates
// a user's namespace.
var ErrNoNamespace = errors.New("namespace does not exist")

// Apply creates the waypoint's objects in the cluster c reaches, or brings them to s, printing
// for each whether it was created, configured or unchanged (side names the cluster in that
// output). Before writing anything it checks that the namespace and the certificate Secrets
// exist (CheckSecrets). It fails with membership.ErrNotOwned on the first object that exists without
// meshfed's managed-by label, and leaves that object alone.
func Apply(ctx context.Context, c client.Client, side string, s Spec, out io.Writer) error {
	if err := checkNamespace(ctx, c, side, s.Namespace); err != nil {
		return err
	}
	if err := CheckSecrets(ctx, c, side, s); err != nil {
		return err
	}
	objs := Objects(s)
	if err := checkOwned(ctx, c, side, objs); err != nil {
		return err
	}
	scheme, err := membership.Scheme()
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := membership.SetKind(obj, scheme); err != nil {
			return err
		}
		if err := membership.Apply(ctx, c, side, obj, out); err != nil {
			return err
		}
	}
	if err := prune(ctx, c, side, objs, out); err != nil {
		return err
	}
	if s.Shared() {
		_, err = fmt.Fprintf(out, "shared gateway in namespace %s, serving %s, applied to %s\n", s.Namespace, strings.Join(s.Serves, ","), side)
	} else {
		_, err = fmt.Fprintf(out, "waypoint of namespace %s applied to %s\n", s.Namespace, side)
	}
	return err
}

// prune deletes the optional objects (disruption budget, autoscaler) that an earlier apply
// created and that these flags no longer want; one that is absent is not mentioned, one that
// meshfed does not manage is kept.
func prune(ctx context.Context, c client.Client, side string, wanted []client.Object, out io.Writer) error {
	for _, obj := range optionalObjects(wanted[0].GetNamespace(), wanted[0].GetName()) {
		if slices.ContainsFunc(wanted, func(w client.Object) bool { return kindName(w) == kindName(obj) }) {
			continue
		}
		switch err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return fmt.Errorf("failed to get %s %s in %s: %w", kindName(obj), client.ObjectKeyFromObject(obj), side, err)
		}
		if err := membership.Remove(ctx, c, side, obj, out); err != nil {
			return err
		}
	}
	return nil
}

// checkNamespace fails with ErrNoNamespace when namespace ns does not exist.
func checkNamespace(ctx context.Context, c client.Client, side, ns string) error {
	if err := c.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("failed to apply the waypoint of %s in %s: %w", ns, side, ErrNoNamespace)
		}
		return fmt.Errorf("failed to get namespace %s in %s: %w", ns, side, err)
	}
	return nil
}

// checkOwned fails with membership.ErrNotOwned when any of objs exists without meshfed's
// managed-by label, before apply changes anything. membership.Apply checks again, right before
// each write.
func checkOwned(ctx context.Context, c client.Client, side string, objs []client.Object) error {
	for _, obj := range objs {
		cur, ok := obj.DeepCopyObject().(client.Object)
		if !ok {
			return fmt.Errorf("failed to copy %T", obj)
		}
		switch err := c.Get(ctx, client.ObjectKeyFromObject(obj), cur); {
		case apierrors.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("failed to get %s %s in %s: %w", kindName(obj), client.ObjectKeyFromObject(obj), side, err)
		case cur.GetLabels()[wellknown.ManagedByLabel] != wellknown.ManagedByValue:
			return fmt.Errorf("failed to apply the waypoint in %s: %w: %s %s (label it %s=%s to let meshfed manage it, or delete it)",
				side, membership.ErrNotOwned, kindName(cur), client.ObjectKeyFromObject(cur), wellknown.ManagedByLabel, wellknown.ManagedByValue)
		}
	}
	return nil
}

// kindName is the kind of a typed object, without the package path.
func kindName(obj client.Object) string {
	t := fmt.Sprintf("%T", obj)
	return t[strings.LastIndexByte(t, '.')+1:]
}

// Delete removes what Apply creates for namespace ns, in reverse order, printing each step
// (the disruption budget and autoscaler whether or not the last apply wanted them): the
// namespace's waypoint, or with shared the shared gateway running there. Objects that are
// absent are reported as such, objects without meshfed's managed-by label are kept, so
// deleting twice succeeds.
func Delete(ctx context.Context, c client.Client, side, ns string, shared bool, out io.Writer) error {
	s := Spec{Namespace: ns}
	if shared {
		s.Serves = []string{"-"} // any: only the names of the objects count here
	}
	objs := append(Objects(s), optionalObjects(ns, s.name())...)
	slices.Reverse(objs)
	for _, obj := range objs {
		if err := membership.Remove(ctx, c, side, obj, out); err != nil {
			return err
		}
	}
	what := "waypoint of namespace " + ns
	if shared {
		what = "shared gateway in namespace " + ns
	}
	_, err := fmt.Fprintf(out, "%s removed from %s\n", what, side)
	return err
}
