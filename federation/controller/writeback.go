package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// writeBack writes the imports of the merge result into every member the hub can write to —
// connected, caches synced, neither stale nor withdrawn — and removes what the hub wrote there
// that is no longer wanted (unexport, narrowed scope, a MemberCluster being deleted while its
// connection lives). Members it cannot write to keep what they have until it can. Members are
// written concurrently, each bounded by memberWriteTimeout, so a hanging member delays the
// pass by that much at most. A member that fails is logged and recorded in the report; it
// never fails the pass (the store and the hub's mirrors are already written) nor stops the
// other members, and the next pass retries.
func (f *Federation) writeBack(ctx context.Context, res *merge.Result, p *pass, ports map[portKey]int32) WriteBackReport {
	wants := importsByCluster(res, p.clusters, p.segments)
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		report WriteBackReport
	)
	for _, m := range f.members.List(f.now()) {
		if m.Stale || m.Withdrawn {
			continue
		}
		wg.Go(func() {
			var own WriteBackReport
			err := f.writeMember(ctx, m.Conn, wants[m.Cluster.Name], ports, &own)
			if err != nil && ctx.Err() == nil {
				f.log.Warn("write-back into member failed", "member", m.Cluster.Name, "error", err)
				own.fail(m.Cluster.Name, err)
			}
			mu.Lock()
			report.merge(&own)
			mu.Unlock()
		})
	}
	wg.Wait()
	return report
}

// memberWriteTimeout bounds one member's write-back in a pass, so that a member whose API
// server hangs (before the probe marks it stale) cannot stall the federation loop for long.
const memberWriteTimeout = 5 * time.Second

// writeMember writes one member's imports, bounded by memberWriteTimeout. A member whose
// caches have not synced yet is left alone.
func (f *Federation) writeMember(ctx context.Context, conn *member.Connection, wants []*model.GlobalService, ports map[portKey]int32, report *WriteBackReport) error {
	objs, err := conn.Snapshot(ctx)
	if errors.Is(err, member.ErrNotSynced) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, memberWriteTimeout)
	defer cancel()
	w := &memberWriter{conn: conn, log: f.log.With("member", conn.Name()), retry: f.Trigger}
	return w.write(ctx, objs, wants, ports, report)
}

// write brings one member in line: each wanted import, then the pruning of the rest.
func (w *memberWriter) write(ctx context.Context, objs *member.Objects, wants []*model.GlobalService, ports map[portKey]int32, report *WriteBackReport) error {
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
func (w *memberWriter) writeImport(ctx context.Context, st *memberState, g *model.GlobalService, ports map[portKey]int32) (MemberImport, error) {
	mi := MemberImport{Cluster: w.conn.Name()}
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

// RemoveWriteBack deletes everything the hub wrote into a member — the ServiceImports and
// derived Services carrying both write-back labels — through c, a client of that member. It is
// the cleanup for a member that leaves the federation, whose connection the hub no longer
// has. ServiceImports are skipped on a member that does not serve their API.
func RemoveWriteBack(ctx context.Context, c client.Client) error {
	var imports mcsv1alpha1.ServiceImportList
	err := removeAll(ctx, c, &imports, func() []client.Object { return itemsOf(imports.Items) })
	if err != nil && !meta.IsNoMatchError(err) {
		return err
	}
	var svcs corev1.ServiceList
	return removeAll(ctx, c, &svcs, func() []client.Object { return itemsOf(svcs.Items) })
}

// removeAll lists every object carrying both write-back labels into list and deletes each,
// guarded by its UID so that an object recreated meanwhile under the same name is kept.
func removeAll(ctx context.Context, c client.Client, list client.ObjectList, items func() []client.Object) error {
	sel := client.MatchingLabels{wellknown.ManagedByLabel: wellknown.ManagedByValue}
	if err := c.List(ctx, list, sel, client.HasLabels{wellknown.GlobalServiceNameLabel}); err != nil {
		return fmt.Errorf("failed to list written-back objects %T: %w", list, err)
	}
	for _, obj := range items() {
		uid := obj.GetUID()
		if err := c.Delete(ctx, obj, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("failed to delete %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}

// itemsOf returns pointers to the items of a list.
func itemsOf[T any, PT interface {
	*T
	client.Object
}](items []T) []client.Object {
	out := make([]client.Object, len(items))
	for i := range items {
		out[i] = PT(&items[i])
	}
	return out
}
