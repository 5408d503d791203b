package writeback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

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
	// now is when the pass began, for the takeover release times.
	now time.Time
	// slices is what the member's MCS EndpointSlices are made from; sliced lists the services
	// that got them in this pass.
	slices Slices
	sliced map[types.NamespacedName]bool
}

// applyDerived creates or updates the derived Service (cur is the member's current object of
// that name, nil if none) and returns it as the API server has it. A Service of that name the
// hub does not own for this global service is left alone, recorded as a clash: nil.
func (w *memberWriter) applyDerived(ctx context.Context, cur, desired *corev1.Service, mi *Import) (*corev1.Service, error) {
	c := w.conn.Cluster().GetClient()
	switch {
	case cur == nil:
		if err := c.Create(ctx, desired); err != nil {
			return nil, w.lagged(err, "create", "Service", desired)
		}
		w.log.Info("derived service created", "namespace", desired.Namespace, "name", desired.Name, "clusterIP", desired.Spec.ClusterIP)
		return desired, nil
	case !ownedBy(cur.Labels, desired.Labels[wellknown.GlobalServiceNameLabel]):
		w.clash(mi, "Service", cur)
		return nil, nil
	case derivedSpecEqual(cur, desired):
		return cur, nil
	}
	next := cur.DeepCopy()
	if next.Labels == nil {
		next.Labels = map[string]string{}
	}
	maps.Copy(next.Labels, desired.Labels)
	next.Spec.Type, next.Spec.Selector, next.Spec.Ports = desired.Spec.Type, desired.Spec.Selector, desired.Spec.Ports
	if err := c.Update(ctx, next); err != nil {
		return nil, w.lagged(err, "update", "Service", next)
	}
	w.log.Info("derived service updated", "namespace", next.Namespace, "name", next.Name)
	return next, nil
}

// applyImport creates or updates the ServiceImport (cur is the member's current object of
// that name, nil if none), spec then status, each only when it differs, and reports whether
// the member now has it as desired. One the hub does not own is left alone and recorded as a
// clash.
func (w *memberWriter) applyImport(ctx context.Context, api importAPI, cur, desired *mcsv1beta1.ServiceImport, mi *Import) (bool, error) {
	switch {
	case cur == nil:
		status := desired.Status
		if err := api.write(ctx, desired, true); err != nil {
			return false, w.lagged(err, "create", "ServiceImport", desired)
		}
		w.log.Info("service import created", "namespace", desired.Namespace, "name", desired.Name, "ips", desired.Spec.IPs)
		cur, desired = desired.DeepCopy(), desired.DeepCopy()
		desired.Status = status
	case !ownedBy(cur.Labels, desired.Labels[wellknown.GlobalServiceNameLabel]):
		w.clash(mi, "ServiceImport", cur)
		return false, nil
	case !importSpecEqual(cur, desired):
		next := cur.DeepCopy()
		if next.Labels == nil {
			next.Labels = map[string]string{}
		}
		maps.Copy(next.Labels, desired.Labels)
		next.Annotations = setAnnotations(next.Annotations, desired.Annotations)
		next.Spec = desired.Spec
		if err := api.write(ctx, next, false); err != nil {
			return false, w.lagged(err, "update", "ServiceImport", next)
		}
		w.log.Info("service import updated", "namespace", next.Namespace, "name", next.Name, "ips", next.Spec.IPs)
		cur = next
	}
	if importStatusEqual(cur, desired) {
		return true, nil
	}
	next := cur.DeepCopy()
	next.Status = desired.Status
	if err := api.writeStatus(ctx, next); err != nil {
		return false, w.lagged(err, "update status of", "ServiceImport", next)
	}
	return true, nil
}

// removeService deletes a derived Service the hub no longer wants, guarded by its UID.
func (w *memberWriter) removeService(ctx context.Context, svc *corev1.Service) error {
	uid := svc.UID
	return w.remove("Service", svc, w.conn.Cluster().GetClient().Delete(ctx, svc, client.Preconditions{UID: &uid}))
}

// removeImport deletes a ServiceImport the hub no longer wants, guarded by its UID.
func (w *memberWriter) removeImport(ctx context.Context, api importAPI, si *mcsv1beta1.ServiceImport) error {
	return w.remove("ServiceImport", si, api.remove(ctx, si))
}

// remove reports the outcome err of deleting obj.
func (w *memberWriter) remove(kind string, obj client.Object, err error) error {
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
