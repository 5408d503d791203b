package writeback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/member"
)

// memberWriter writes one member's imports during one pass.
type memberWriter struct {
	conn *member.Connection
	log  *slog.Logger
	// retry asks for another pass; it is called when a write met a cache that lagged behind
	// the API server (already exists, conflict), which the next pass resolves.
	retry func()
}

// applyDerived creates or updates the derived Service (cur is the member's current object of
// that name, nil if none) and returns its ClusterIP. A Service of that name the hub does not
// own for this global service is left alone and recorded as a clash.
func (w *memberWriter) applyDerived(ctx context.Context, cur, desired *corev1.Service, mi *Import) (string, error) {
	c := w.conn.Cluster().GetClient()
	switch {
	case cur == nil:
		if err := c.Create(ctx, desired); err != nil {
			return "", w.lagged(err, "create", "Service", desired)
		}
		w.log.Info("derived service created", "namespace", desired.Namespace, "name", desired.Name, "clusterIP", desired.Spec.ClusterIP)
		return desired.Spec.ClusterIP, nil
	case !ownedBy(cur.Labels, desired.Labels[wellknown.GlobalServiceNameLabel]):
		w.clash(mi, "Service", cur)
		return "", nil
	case derivedSpecEqual(cur, desired):
		return cur.Spec.ClusterIP, nil
	}
	if cur.Labels == nil {
		cur.Labels = map[string]string{}
	}
	maps.Copy(cur.Labels, desired.Labels)
	cur.Spec.Type, cur.Spec.Selector, cur.Spec.Ports = desired.Spec.Type, desired.Spec.Selector, desired.Spec.Ports
	if err := c.Update(ctx, cur); err != nil {
		return "", w.lagged(err, "update", "Service", cur)
	}
	w.log.Info("derived service updated", "namespace", cur.Namespace, "name", cur.Name)
	return cur.Spec.ClusterIP, nil
}

// applyImport creates or updates the ServiceImport (cur is the member's current object of
// that name, nil if none). One the hub does not own is left alone and recorded as a clash.
func (w *memberWriter) applyImport(ctx context.Context, cur, desired *mcsv1alpha1.ServiceImport, mi *Import) error {
	c := w.conn.Cluster().GetClient()
	switch {
	case cur == nil:
		if err := c.Create(ctx, desired); err != nil {
			return w.lagged(err, "create", "ServiceImport", desired)
		}
		w.log.Info("service import created", "namespace", desired.Namespace, "name", desired.Name, "ips", desired.Spec.IPs)
		return nil
	case !ownedBy(cur.Labels, desired.Labels[wellknown.GlobalServiceNameLabel]):
		w.clash(mi, "ServiceImport", cur)
		return nil
	case importSpecEqual(cur, desired):
		return nil
	}
	if cur.Labels == nil {
		cur.Labels = map[string]string{}
	}
	maps.Copy(cur.Labels, desired.Labels)
	cur.Spec.Type, cur.Spec.Ports, cur.Spec.IPs = desired.Spec.Type, desired.Spec.Ports, desired.Spec.IPs
	if err := c.Update(ctx, cur); err != nil {
		return w.lagged(err, "update", "ServiceImport", cur)
	}
	w.log.Info("service import updated", "namespace", cur.Namespace, "name", cur.Name, "ips", cur.Spec.IPs)
	return nil
}

// remove deletes an object the hub wrote and no longer wants, guarded by its UID.
func (w *memberWriter) remove(ctx context.Context, kind string, obj client.Object) error {
	uid := obj.GetUID()
	err := w.conn.Cluster().GetClient().Delete(ctx, obj, client.Preconditions{UID: &uid})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return w.lagged(err, "delete", kind, obj)
	}
	w.log.Info("written-back object removed", "kind", kind, "namespace", obj.GetNamespace(), "name", obj.GetName())
	return nil
}

// clash records and logs an object whose name the hub needs but does not own.
func (w *memberWriter) clash(mi *Import, kind string, obj client.Object) {
	ref := objectRef(kind, obj)
	mi.Clashes = append(mi.Clashes, ref)
	w.log.Warn("name taken by an object meshfed does not own; left alone", "object", ref)
}

// errLagged reports a write based on a lagging cache (already exists, conflict); another pass
// has been asked for and will resolve it.
var errLagged = errors.New("member cache lagged behind a write")

// lagged turns the errors of a write based on a lagging cache into errLagged after asking for
// a retry, and wraps every other error.
func (w *memberWriter) lagged(err error, verb, kind string, obj client.Object) error {
	if apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) {
		w.log.Debug("write raced a cache update; retrying", "verb", verb, "object", objectRef(kind, obj), "error", err)
		w.retry()
		return errLagged
	}
	return fmt.Errorf("failed to %s %s in member %s: %w", verb, objectRef(kind, obj), w.conn.Name(), err)
}
