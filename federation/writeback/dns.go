package writeback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/dns/corefile"
)

// CoreDNS's configuration in a member, as kubeadm and most distributions install it.
const (
	coreDNSNamespace = "kube-system"
	coreDNSConfigMap = "coredns"
	corefileKey      = "Corefile"
)

// errNoCoreDNS reports a member without CoreDNS's ConfigMap.
var errNoCoreDNS = errors.New("the member has no CoreDNS configuration")

// dns keeps the member's CoreDNS forwarding meshfed's zones and the taken-over names to the
// member's meshfed-dns, when the member runs one (a Service meshfed-dns in SystemNamespace with
// a ClusterIP): it rewrites only meshfed's marked block of the Corefile, only when it changed.
// Names are added after their import carries the takeover annotation (written before this
// step) and dropped before it loses it (see importAnnotations), so CoreDNS never forwards a
// name meshfed-dns would refuse. The outcome is recorded on each import asking for takeover:
// active only once meshfed-dns confirmed that the member's DNS answers the name as it does
// (DNSTakeoverConfigMap), since CoreDNS loads the block only at its next reload.
func (w *memberWriter) dns(ctx context.Context, st *memberState, zones []string, report *Report) {
	pending := ""
	var confirmed map[string]string
	defer func() { w.recordTakeover(report, pending, confirmed) }()
	svc := st.services[types.NamespacedName{Namespace: wellknown.SystemNamespace, Name: wellknown.DNSName}]
	if svc == nil || svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		pending = "no meshfed-dns Service in " + wellknown.SystemNamespace
		return
	}
	block, err := corefile.Block(corefile.Config{
		Zones: zones, TakeoverNames: st.takeover,
		Upstreams: []string{net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(corefile.DefaultPort))},
	})
	if err != nil {
		pending = err.Error()
		return
	}
	if err := w.applyCorefile(ctx, func(cur string) (string, error) { return corefile.Apply(cur, block) }); err != nil {
		pending = err.Error()
		w.log.Warn("cannot configure the member's CoreDNS", "error", err)
		return
	}
	if len(st.takeover) > 0 {
		if confirmed, err = w.confirmedTakeovers(ctx); err != nil {
			pending = err.Error()
		}
	}
}

// confirmedTakeovers reads the names meshfed-dns found answered by the member's DNS as it
// answers them (no ConfigMap: none yet).
func (w *memberWriter) confirmedTakeovers(ctx context.Context) (map[string]string, error) {
	var cm corev1.ConfigMap
	key := client.ObjectKey{Namespace: wellknown.SystemNamespace, Name: wellknown.DNSTakeoverConfigMap}
	if err := w.conn.Cluster().GetAPIReader().Get(ctx, key, &cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("failed to read what meshfed-dns confirmed (ConfigMap %s): %w", key, err)
	}
	return cm.Data, nil
}

// recordTakeover marks every import of this member asking for takeover active when its name is
// confirmed, else pending with the reason; a pending one asks for another write-back soon.
func (w *memberWriter) recordTakeover(report *Report, pending string, confirmed map[string]string) {
	for k, imports := range report.Imports {
		for i := range imports {
			mi := &report.Imports[k][i]
			if mi.Cluster != w.conn.Name() || !mi.TakeoverRequested {
				continue
			}
			name := wellknown.TakeoverName(k.Namespace, k.Name)
			_, ok := confirmed[name]
			switch {
			case !mi.Imported:
				mi.TakeoverPending = "the import is not written"
			case pending != "":
				mi.TakeoverPending = pending
			case !ok:
				mi.TakeoverPending = "the member's DNS does not answer " + name + " with the global service yet (CoreDNS loads meshfed's block at its next reload; meshfed-dns checks every few seconds)"
				report.Recheck = true
			default:
				mi.TakeoverActive = true
			}
		}
	}
}

// applyCorefile reads the member's CoreDNS Corefile, edits it, and writes it back when the
// edit changed it.
func (w *memberWriter) applyCorefile(ctx context.Context, edit func(string) (string, error)) error {
	return editCorefile(ctx, w.conn.Cluster().GetAPIReader(), w.conn.Cluster().GetClient(), edit, w.retry)
}

// editCorefile is applyCorefile reading through r (not a cache: the hub watches no ConfigMaps)
// and writing through c; retry (optional) is called when the write raced another writer.
func editCorefile(ctx context.Context, r client.Reader, c client.Client, edit func(string) (string, error), retry func()) error {
	var cm corev1.ConfigMap
	if err := r.Get(ctx, client.ObjectKey{Namespace: coreDNSNamespace, Name: coreDNSConfigMap}, &cm); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w: no ConfigMap %s/%s", errNoCoreDNS, coreDNSNamespace, coreDNSConfigMap)
		}
		return fmt.Errorf("failed to read the member's CoreDNS configuration: %w", err)
	}
	cur := cm.Data[corefileKey]
	next, err := edit(cur)
	if err != nil {
		return fmt.Errorf("failed to edit the member's Corefile: %w", err)
	}
	if next == cur {
		return nil
	}
	cm.Data = cloneWith(cm.Data, corefileKey, next)
	if err := c.Update(ctx, &cm); err != nil {
		if apierrors.IsConflict(err) && retry != nil {
			retry()
		}
		return fmt.Errorf("failed to write the member's CoreDNS configuration: %w", err)
	}
	return nil
}

// cloneWith returns a copy of m with k set to v.
func cloneWith(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}
