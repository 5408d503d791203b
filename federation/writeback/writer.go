package writeback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
)

// PortLookup returns the waypoint listener port allocated for port p of global service g, 0
// when none is allocated.
type PortLookup func(g *model.GlobalService, p model.Port) int32

// Options configure a write into one member.
type Options struct {
	// Log receives the writes made and the names found taken.
	Log *slog.Logger
	// Retry asks the caller for another pass; it is called when a write met a cache that lagged
	// behind the member's API server (already exists, conflict), which the next pass resolves.
	Retry func()
}

// memberTimeout bounds one member's write-back, so that a member whose API server hangs
// (before the probe marks it stale) cannot stall the caller's pass for long.
const memberTimeout = 5 * time.Second

// Member brings one member in line with wants, the global services it imports (see Wants):
// for each, the derived Service, then the ServiceImport with the derived Service's ClusterIP;
// then it removes what the hub wrote there that wants no longer names (unexport, narrowed
// scope). It is bounded by a timeout of 5 s. A member whose caches have not synced yet is left
// alone (empty report, nil error). The report records each import; on an error it may be
// incomplete.
func Member(ctx context.Context, conn *member.Connection, wants []*model.GlobalService, ports PortLookup, o Options) (Report, error) {
	var report Report
	objs, err := conn.Objects(ctx)
	if errors.Is(err, member.ErrNotSynced) {
		return report, nil
	}
	if err != nil {
		return report, err
	}
	ctx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	w := &memberWriter{conn: conn, log: o.Log.With("member", conn.Name()), retry: o.Retry}
	err = w.write(ctx, objs, wants, ports, &report)
	return report, err
}

// write brings one member in line: each wanted import, then the pruning of the rest.
func (w *memberWriter) write(ctx context.Context, objs *member.Objects, wants []*model.GlobalService, ports PortLookup, report *Report) error {
	imports, hasImports, err := w.listImports(ctx)
	if err != nil {
		return err
	}
	st := &memberState{objs: objs, imports: imports, hasImports: hasImports, keep: map[string]bool{},
		services: make(map[types.NamespacedName]*corev1.Service, len(objs.Services))}
	for i := range objs.Services {
		s := &objs.Services[i]
		st.services[client.ObjectKeyFromObject(s)] = s
	}
	for _, g := range wants {
		mi, err := w.writeImport(ctx, st, g, ports)
		if err != nil {
			return err
		}
		report.add(merge.KeyOf(g), mi)
	}
	return w.prune(ctx, objs.Services, imports, st.keep)
}

// memberState is what one pass read from a member, and the objects it means to keep there.
type memberState struct {
	objs       *member.Objects
	services   map[types.NamespacedName]*corev1.Service
	imports    map[types.NamespacedName]*mcsv1alpha1.ServiceImport
	hasImports bool
	keep       map[string]bool
}

// writeImport writes the derived Service, then the ServiceImport with its ClusterIP, of one
// global service the member imports — unless the namespace does not exist there.
func (w *memberWriter) writeImport(ctx context.Context, st *memberState, g *model.GlobalService, ports PortLookup) (Import, error) {
	mi := Import{Cluster: w.conn.Name()}
	if st.objs.Namespaces[g.Namespace] == nil {
		mi.NamespaceMissing = true
		w.log.Debug("import skipped, namespace missing", "namespace", g.Namespace, "name", g.Name)
		return mi, nil
	}
	_, hasWaypoint := st.services[types.NamespacedName{Namespace: g.Namespace, Name: wellknown.WaypointName}]
	mi.WaypointMissing = !hasWaypoint
	ip := ""
	if derived := desiredDerivedService(g, ports); derived != nil {
		st.keep[objectRef("Service", derived)] = true
		var err error
		ip, err = w.applyDerived(ctx, st.services[client.ObjectKeyFromObject(derived)], derived, &mi)
		if errors.Is(err, errLagged) {
			// The derived Service's ClusterIP is unknown until the retry: leave the import as is.
			st.keep[ref("ServiceImport", g.Namespace, g.Name)] = true
			return mi, nil
		}
		if err != nil {
			return mi, err
		}
	}
	if !st.hasImports {
		return mi, nil
	}
	si := desiredServiceImport(g, ip)
	st.keep[objectRef("ServiceImport", si)] = true
	return mi, ignoreLagged(w.applyImport(ctx, st.imports[client.ObjectKeyFromObject(si)], si, &mi))
}

// ignoreLagged drops errLagged: the retry it asked for resolves it.
func ignoreLagged(err error) error {
	if errors.Is(err, errLagged) {
		return nil
	}
	return err
}

// listImports reads the member's ServiceImports straight from its API server (the connection
// does not watch them), by namespace and name. A member that does not serve the MCS
// ServiceImport API gets derived Services only: hasImports is false.
func (w *memberWriter) listImports(ctx context.Context) (imports map[types.NamespacedName]*mcsv1alpha1.ServiceImport, hasImports bool, err error) {
	var list mcsv1alpha1.ServiceImportList
	if err := w.conn.Cluster().GetAPIReader().List(ctx, &list); err != nil {
		if meta.IsNoMatchError(err) {
			w.log.Debug("member serves no ServiceImport API; writing derived Services only")
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("failed to list serviceimports of member %s: %w", w.conn.Name(), err)
	}
	imports = make(map[types.NamespacedName]*mcsv1alpha1.ServiceImport, len(list.Items))
	for i := range list.Items {
		si := &list.Items[i]
		imports[client.ObjectKeyFromObject(si)] = si
	}
	return imports, true, nil
}

// prune deletes the Services and ServiceImports the hub wrote (both write-back labels set)
// that keep does not name.
func (w *memberWriter) prune(ctx context.Context, services []corev1.Service, imports map[types.NamespacedName]*mcsv1alpha1.ServiceImport, keep map[string]bool) error {
	for i := range services {
		if s := &services[i]; writtenBack(s) && !keep[objectRef("Service", s)] {
			if err := w.remove(ctx, "Service", s); ignoreLagged(err) != nil {
				return err
			}
		}
	}
	for _, si := range imports {
		if writtenBack(si) && !keep[objectRef("ServiceImport", si)] {
			if err := w.remove(ctx, "ServiceImport", si); ignoreLagged(err) != nil {
				return err
			}
		}
	}
	return nil
}

// writtenBack reports whether obj is one the hub wrote back (managed by meshfed, for a global
// service); other meshfed objects in the member, such as waypoints, are never touched.
func writtenBack(obj client.Object) bool {
	l := obj.GetLabels()
	return l[wellknown.ManagedByLabel] == wellknown.ManagedByValue && l[wellknown.GlobalServiceNameLabel] != ""
}

// objectRef names an object for logs, reports and the keep set: "<kind> <ns>/<name>".
func objectRef(kind string, obj client.Object) string {
	return ref(kind, obj.GetNamespace(), obj.GetName())
}

func ref(kind, namespace, name string) string { return kind + " " + namespace + "/" + name }
