package writeback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

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

// Want is what the hub wants in one member.
type Want struct {
	// Imports are the global services the member imports (see Wants).
	Imports []*model.GlobalService
	// Exports is what became of each Service the member exports with a ServiceExport, by the
	// Service's namespace and name; ServiceExports not listed are reported as not merged yet.
	Exports map[types.NamespacedName]ExportState
	// Zones are the DNS zones the member's meshfed-dns answers, forwarded to it by the
	// member's CoreDNS: every segment domain and clusterset.local.
	Zones []string
	// Slices is what the member's MCS EndpointSlices are made from.
	Slices Slices
}

// Member brings one member in line with want: for each import, the derived Service, then the
// ServiceImport with the derived Service's ClusterIPs, then its MCS EndpointSlices (as
// want.Slices asks); then it removes what the hub wrote there
// that want no longer names (unexport, narrowed scope), and writes the MCS conditions of the
// member's ServiceExports. It is bounded by a timeout of 5 s. A member whose caches have not
// synced yet is left alone (empty report, nil error). The report records each import; on an
// error it may be incomplete.
func Member(ctx context.Context, conn *member.Connection, want Want, ports PortLookup, o Options) (Report, error) {
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
	w := &memberWriter{conn: conn, log: o.Log.With("member", conn.Name()), retry: o.Retry, now: time.Now(), slices: want.Slices, sliced: map[types.NamespacedName]bool{}}
	st, err := w.write(ctx, objs, want.Imports, ports, &report)
	if st == nil {
		return report, err
	}
	// An import that could not be written fails alone: the rest of the member, its DNS wiring
	// and its ServiceExports' conditions are still written, and the error asks for a retry.
	want.Slices.Memo.retain(conn.Name(), w.sliced)
	w.dns(ctx, st, want.Zones, &report)
	return report, errors.Join(err, w.writeExportStatus(ctx, objs, want.Exports))
}

// write brings one member in line: each wanted import, then the pruning of the rest.
func (w *memberWriter) write(ctx context.Context, objs *member.Objects, wants []*model.GlobalService, ports PortLookup, report *Report) (*memberState, error) {
	api := importAPI{c: w.conn.Cluster().GetClient(), reader: w.conn.Cluster().GetAPIReader(), legacy: w.conn.ImportVersion() == "v1alpha1"}
	imports, hasImports, err := w.listImports(ctx, api)
	if err != nil {
		return nil, err
	}
	st := &memberState{objs: objs, api: api, imports: imports, hasImports: hasImports, keep: map[string]bool{},
		services: make(map[types.NamespacedName]*corev1.Service, len(objs.Services)), gateways: servingGateways(objs)}
	for i := range objs.Services {
		s := &objs.Services[i]
		st.services[client.ObjectKeyFromObject(s)] = s
	}
	var errs []error
	for _, g := range wants {
		mi, err := w.writeImport(ctx, st, g, ports)
		if err != nil {
			// Keep what the member has of it (nothing of it is pruned); the next pass retries.
			st.keep[ref("Service", g.Namespace, wellknown.DerivedServiceName(g.Name))] = true
			st.keep[ref("ServiceImport", g.Namespace, g.Name)] = true
			keepSlices(st, g)
			keepGatewaySlices(st, g)
			errs = append(errs, err)
		}
		report.add(merge.KeyOf(g), mi)
	}
	return st, errors.Join(append(errs, w.prune(ctx, st))...)
}

// memberState is what one pass read from a member, and the objects it means to keep there.
type memberState struct {
	objs       *member.Objects
	services   map[types.NamespacedName]*corev1.Service
	api        importAPI
	imports    map[types.NamespacedName]*mcsv1beta1.ServiceImport
	hasImports bool
	keep       map[string]bool
	// gateways maps each namespace a shared gateway serves in the member to the gateway's
	// namespace (see servingGateways).
	gateways map[string]string
	// takeover lists the cluster-local names of the imports written with takeover on.
	takeover []string
}

// writeImport writes the derived Service, then the ServiceImport with its ClusterIPs, of one
// global service the member imports — unless the namespace does not exist there.
func (w *memberWriter) writeImport(ctx context.Context, st *memberState, g *model.GlobalService, ports PortLookup) (Import, error) {
	mi := Import{Cluster: w.conn.Name()}
	if ns := st.objs.Namespaces[g.Namespace]; ns == nil || ns.DeletionTimestamp != nil {
		// A namespace being deleted takes no new objects (the API server refuses them); what
		// the hub wrote there is pruned, or goes with the namespace.
		mi.NamespaceMissing = true
		w.log.Debug("import skipped, namespace missing or being deleted", "namespace", g.Namespace, "name", g.Name)
		return mi, nil
	}
	gateway := st.gateways[g.Namespace]
	waypoint := waypointOf(g.Namespace, gateway)
	_, hasWaypoint := st.services[waypoint]
	mi.WaypointMissing = !hasWaypoint
	mi.WaypointNotReady = hasWaypoint && !st.objs.HasReadyEndpoint(waypoint)
	var derived *corev1.Service
	if want := desiredDerivedService(g, ports, gateway); want != nil {
		st.keep[objectRef("Service", want)] = true
		var err error
		derived, err = w.applyDerived(ctx, st.services[client.ObjectKeyFromObject(want)], want, &mi)
		if errors.Is(err, errLagged) {
			// The derived Service's ClusterIP is unknown until the retry: leave the import as is.
			st.keep[ref("ServiceImport", g.Namespace, g.Name)] = true
			keepSlices(st, g)
			keepGatewaySlices(st, g)
			return mi, nil
		}
		if err != nil {
			return mi, err
		}
		if derived != nil && gateway != "" {
			if err := w.writeGatewaySlices(ctx, st, g, derived, gateway); err != nil {
				return mi, err
			}
		}
	}
	if !st.hasImports {
		mi.Imported = derived != nil
		return mi, nil
	}
	key := types.NamespacedName{Namespace: g.Namespace, Name: g.Name}
	var curAnnotations map[string]string
	if cur := st.imports[key]; cur != nil {
		curAnnotations = cur.Annotations
	}
	si := desiredServiceImport(g, w.conn.Name(), derived, importAnnotations(g.Hostname, g.Takeover, curAnnotations, w.now))
	st.keep[objectRef("ServiceImport", si)] = true
	if cur := st.imports[key]; cur != nil {
		si.UID = cur.UID
	}
	imported, err := w.applyImport(ctx, st.api, st.imports[key], si, &mi)
	mi.Imported = imported
	mi.TakeoverRequested = g.Takeover
	if imported && g.Takeover {
		st.takeover = append(st.takeover, wellknown.TakeoverName(g.Namespace, g.Name))
	}
	switch {
	case errors.Is(err, errLagged):
		keepSlices(st, g)
	case err == nil && imported:
		err = w.writeSlices(ctx, st, g, si)
	}
	return mi, ignoreLagged(err)
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
func (w *memberWriter) listImports(ctx context.Context, api importAPI) (imports map[types.NamespacedName]*mcsv1beta1.ServiceImport, hasImports bool, err error) {
	if w.conn.ImportVersion() == "" {
		w.log.Debug("member serves no ServiceImport API; writing derived Services only")
		return nil, false, nil
	}
	imports, err = api.list(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("failed to list serviceimports of member %s: %w", w.conn.Name(), err)
	}
	return imports, true, nil
}

// prune deletes the Services, MCS EndpointSlices and ServiceImports the hub wrote (both write-back labels set)
// that st.keep does not name.
func (w *memberWriter) prune(ctx context.Context, st *memberState) error {
	for i := range st.objs.Services {
		if s := &st.objs.Services[i]; writtenBack(s) && !st.keep[objectRef("Service", s)] {
			if err := w.removeService(ctx, s); ignoreLagged(err) != nil {
				return err
			}
		}
	}
	if err := w.pruneSlices(ctx, st); err != nil {
		return err
	}
	for _, si := range st.imports {
		if writtenBack(si) && !st.keep[objectRef("ServiceImport", si)] {
			if err := w.removeImport(ctx, st.api, si); ignoreLagged(err) != nil {
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
