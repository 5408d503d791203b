package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// pass is what one federation pass gathered.
type pass struct {
	clusters []model.Cluster
	segments []model.Segment
	states   []MemberState
	exports  []model.ClusterExport
	problems []clusterProblem
	// waypoints are the waypoint records of every member that is not withdrawn; gateways
	// the records of their shared gateways.
	waypoints []store.Record
	gateways  []store.Record
	// previous is the store's content under store.NamespacesPrefix but its endpoints records
	// (a store.View holds none); Federation.carryOver reads those when a member is carried over.
	previous store.Listing
	// endpoints are the store's endpoints records once endpointsRead (Federation.carryOver).
	endpoints     []*store.EndpointsRecord
	endpointsRead bool
	// published are previous's service records as the store's conversion reads them, once a
	// member is carried over (carryOver).
	published []model.PublishedService
	// snapshot is what the read that gave previous saw of each key (mod revision, value
	// digest); the pass's Syncs plan against it instead of reading the store again.
	snapshot *store.Baseline
	// changes are what the read found changed by others since the pass before.
	changes storeChanges
	// previousGateways and gatewaySnapshot are the same of store.GatewaysPrefix.
	previousGateways store.Listing
	gatewaySnapshot  *store.Baseline
	// derived are the members' derivations the pass made or reused; they replace
	// Federation.derived once the pass gathered everything. same names the members whose
	// derivations were reused: their exports are exactly those of the memo's last merge
	// (merge.Input.Same).
	derived derivedMembers
	same    map[string]bool
	// fill is how the pass fills Federation.buffer with its exports.
	fill *exportsFill
}

// outcome is what a store pass hands to the member side: the merge, what was gathered, the
// allocated waypoint ports, and the services whose records the store did not take. Nothing in
// it is changed after the pass returns it.
type outcome struct {
	res   merge.Result
	p     *pass
	ports map[portKey]int32
	// notWritten are the services whose service or endpoints records could not be written
	// (see StoreFailures); each fails alone, the pass goes on.
	notWritten StoreFailures
}

// SyncOnce runs one whole pass in the caller's goroutine: the store pass, then the member side
// (events, write-back, GlobalService mirror). The loop of Start runs the two sides apart.
func (f *Federation) SyncOnce(ctx context.Context) error {
	o, err := f.storePass(ctx)
	if err != nil {
		return err
	}
	_, err = f.publish(ctx, o)
	return err
}

// storePass gathers, merges, allocates ports and writes the store.
func (f *Federation) storePass(ctx context.Context) (_ *outcome, err error) {
	pm := f.beginPass()
	defer func() { pm.end(err) }()
	p, err := f.gather(ctx)
	if err != nil {
		return nil, err
	}
	pm.gatheredAll()
	res := merge.Merge(merge.Input{Clusters: p.clusters, Segments: p.segments, Exports: p.exports, Memo: &f.memo, Same: p.same})
	if f.log.Enabled(ctx, slog.LevelDebug) {
		f.log.Debug("federation pass", "exportsByCluster", exportCounts(p.exports), "services", len(res.Services), "problems", len(res.Problems))
	}
	ports, perr := AllocatePorts(f.opts.Ports, servicePorts(p.previous.Services()), res.GlobalServices(), GatewayPortGroups(p.waypoints))
	if perr != nil {
		f.log.Warn("waypoint ports", "error", perr)
	}
	d := desiredRecords(&res, p.states, ports, &f.records)
	d.Waypoints, d.Gateways = p.waypoints, p.gateways
	notWritten, err := f.apply(ctx, d, p.previous.Services(), p.snapshot, p.gatewaySnapshot, p.changes)
	if err != nil {
		return nil, err
	}
	f.reportNotWritten(notWritten)
	pm.storeWritten()
	return &outcome{res: res, p: p, ports: ports, notWritten: storeFailures(notWritten)}, nil
}

// publish carries a store pass's outcome to the members and the hub: Warning Events for bad
// exports, for conflicts and for records the store did not take, the write-back of imports, the GlobalService mirror, and the MemberCluster and
// Segment status. recheck asks for the same outcome to be published again soon
// (writeback.Report.Recheck).
func (f *Federation) publish(ctx context.Context, o *outcome) (recheck bool, err error) {
	problems := append(slices.Clone(o.p.problems), conflictProblems(&o.res)...)
	f.reportProblems(ctx, append(problems, storeProblems(&o.res, o.notWritten)...))
	wb := f.writeBack(ctx, &o.res, o.p, o.ports)
	return wb.Recheck, errors.Join(f.mirror(ctx, o, &wb), f.writeStatus(ctx, &o.res, &wb))
}

// gather reads the hub's MemberClusters and Segments, each connected member's exports, and the
// store's current content.
func (f *Federation) gather(ctx context.Context) (*pass, error) {
	var mcs meshfedv1.MemberClusterList
	if err := f.hub.List(ctx, &mcs); err != nil {
		return nil, fmt.Errorf("failed to list memberclusters: %w", err)
	}
	var segs meshfedv1.SegmentList
	if err := f.hub.List(ctx, &segs); err != nil {
		return nil, fmt.Errorf("failed to list segments: %w", err)
	}
	f.renewViews()
	previous, snap, err := f.views.namespaces.Refresh(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to read the federation store: %w", err)
	}
	gateways, gwSnap, err := f.views.gateways.Refresh(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to read the federation store's gateways: %w", err)
	}
	for _, derr := range append(previous.Errors, gateways.Errors...) {
		f.log.Warn("undecodable store value ignored", "key", derr.Key, "error", derr.Err)
	}
	p := &pass{
		previous: previous, snapshot: snap,
		changes:          changesOf(f.views.namespaces),
		previousGateways: gateways, gatewaySnapshot: gwSnap,
	}
	p.fill, p.exports = f.buffer.fill()
	for i := range segs.Items {
		p.segments = append(p.segments, model.Segment{Name: segs.Items[i].Name, Domain: segs.Items[i].Spec.Domain})
	}
	connected := map[string]Member{}
	for _, m := range f.members.List(f.now()) {
		connected[m.Cluster.Name] = m
	}
	for i := range mcs.Items {
		mc := &mcs.Items[i]
		if !mc.DeletionTimestamp.IsZero() {
			continue
		}
		cl := clusterOf(mc)
		p.clusters = append(p.clusters, cl)
		if err := f.gatherMember(ctx, p, cl, connected); err != nil {
			return nil, err
		}
	}
	p.fill.done(p.exports)
	// The merge takes these exports now; the members this pass did not derive or reuse
	// (carried over, withdrawn, gone) are derived again when next federated.
	f.derived = p.derived
	return p, nil
}

// gatherMember adds one member's exports. A member whose caches saw no event since the pass
// that last derived its outputs (and whose site is the same) gives those again, without its
// objects being read (see derivedFrom). A member without a synced connection keeps what the
// store holds for it (nothing is merged or withdrawn before its caches synced); a member past
// its stale grace (withdrawn), or a second name for an older member's cluster, contributes
// nothing.
func (f *Federation) gatherMember(ctx context.Context, p *pass, cl model.Cluster, connected map[string]Member) error {
	m, ok := connected[cl.Name]
	if !ok {
		p.states = append(p.states, MemberState{Cluster: cl})
		return f.carryOver(ctx, p, cl.Name)
	}
	p.states = append(p.states, MemberState{Cluster: cl, Ready: m.DuplicateOf == "", Stale: m.Stale, LastSync: m.LastSync})
	if !m.Federated() {
		return nil
	}
	from := derivedFrom{
		conn: m.Conn, events: m.Events, site: member.Site{Cluster: cl.Name, Network: cl.Network, Region: cl.Region}, trustDomain: f.opts.trustDomain(),
	}
	if d := f.derived.reusable(from); d != nil {
		p.addDerived(d, d.exports, true)
		return nil
	}
	objs, err := m.Conn.Objects(ctx)
	if errors.Is(err, member.ErrNotSynced) {
		return f.carryOver(ctx, p, cl.Name)
	}
	if err != nil {
		return err
	}
	d, exports := deriveMember(from, objs)
	p.addDerived(d, exports, false)
	return nil
}

// waypointsRecords are the records of a member's waypoints: a namespace's own, or, for a
// namespace a shared gateway serves, the gateway's addresses with its namespace and its SPIFFE
// ID in trustDomain.
func waypointsRecords(cluster string, waypoints []member.Waypoint, trustDomain string) []store.Record {
	out := make([]store.Record, 0, len(waypoints))
	for _, w := range waypoints {
		pw := model.PublishedWaypoints{Namespace: w.Namespace, Cluster: cluster, Network: w.Network, Addresses: w.Addresses}
		if w.Gateway != "" {
			pw.Gateway, pw.Identity = w.Gateway, GatewayID(trustDomain, w.Gateway).String()
		}
		out = append(out, store.NewWaypointsRecord(&pw))
	}
	return out
}

// gatewayRecords are the records of a member's shared gateways (in the namespaces gateways),
// each serving exactly the namespaces whose waypoints records (waypoints, that member's, in
// the order of their namespaces) name it; a gateway that serves none has a record too.
func gatewayRecords(cluster string, gateways []string, waypoints []store.Record) []store.Record {
	serves := make(map[string][]string, len(gateways))
	for _, gw := range gateways {
		serves[gw] = nil
	}
	for _, r := range waypoints {
		if w, ok := r.(*store.WaypointsRecord); ok && w.Gateway != "" {
			serves[w.Gateway] = append(serves[w.Gateway], w.Namespace)
		}
	}
	out := make([]store.Record, 0, len(serves))
	for _, gw := range slices.Sorted(maps.Keys(serves)) {
		out = append(out, store.NewGatewayRecord(&model.PublishedGateway{Cluster: cluster, Namespace: gw, Serves: serves[gw]}))
	}
	return out
}

// carryOver keeps what the store holds for a member whose caches are not synced: its exports,
// its waypoint records and its gateway records. The store's endpoints records are read for it
// once a pass (the pass's view of the store holds none).
func (f *Federation) carryOver(ctx context.Context, p *pass, cluster string) error {
	if !p.endpointsRead {
		l, err := f.store.List(ctx, store.NamespacesPrefix)
		if err != nil {
			return fmt.Errorf("failed to read the federation store's endpoints: %w", err)
		}
		p.endpoints, p.endpointsRead = l.Endpoints(), true
	}
	p.carryOverRecords(cluster)
	return nil
}

// carryOverRecords is carryOver with the store's endpoints records read.
func (p *pass) carryOverRecords(cluster string) {
	if p.published == nil {
		p.published = publishedServices(p.previous.Services())
	}
	p.exports = append(p.exports, carryOver(p.published, p.endpoints, cluster)...)
	for _, w := range p.previous.Waypoints() {
		if w.Cluster == cluster {
			p.waypoints = append(p.waypoints, w)
		}
	}
	for _, g := range p.previousGateways.Gateways() {
		if g.Cluster == cluster {
			p.gateways = append(p.gateways, g)
		}
	}
}

// carryOver rebuilds a member's exports from the stored services and that member's stored
// endpoints, read with the store's conversion.
func carryOver(services []model.PublishedService, endpoints []*store.EndpointsRecord, cluster string) []model.ClusterExport {
	byKey := make(map[merge.Key]*model.PublishedService, len(services))
	for i := range services {
		byKey[merge.KeyOf(&services[i].GlobalService)] = &services[i]
	}
	var out []model.ClusterExport
	for _, r := range endpoints {
		if r.Cluster != cluster {
			continue
		}
		s := byKey[merge.Key{Namespace: r.Namespace, Domain: r.Domain, Name: r.Name}]
		if s == nil {
			continue
		}
		e := r.Model()
		out = append(out, model.ClusterExport{
			Cluster: cluster, Namespace: e.Namespace, Name: e.Name, Scope: e.Scope, Takeover: s.Takeover,
			Type: s.Type, Ports: slices.Clone(s.Ports), Distribution: s.Distribution, Outlier: s.Outlier.Clone(), Load: s.Load.Clone(),
			Properties: s.Properties.Clone(), Endpoints: e.Endpoints,
		})
	}
	return out
}

// servicePorts reads the keys, ports and waypoint ports of service records with the store's
// conversion (store.ServiceRecord.PortsModel), all AllocatePorts reads of them.
func servicePorts(records []*store.ServiceRecord) []model.PublishedService {
	out := make([]model.PublishedService, len(records))
	for i, r := range records {
		out[i] = r.PortsModel()
	}
	return out
}

// publishedServices reads service records with the store's conversion.
func publishedServices(records []*store.ServiceRecord) []model.PublishedService {
	out := make([]model.PublishedService, len(records))
	for i, r := range records {
		out[i] = r.Model()
	}
	return out
}

// exportCounts counts exports per cluster, for debug logs.
func exportCounts(exports []model.ClusterExport) map[string]int {
	out := map[string]int{}
	for _, e := range exports {
		out[e.Cluster]++
	}
	return out
}
