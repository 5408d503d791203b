package controller

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/writeback"
)

// writeBack writes the imports of the merge result into every member the hub can write to —
// connected, caches synced, neither stale nor withdrawn — and removes what the hub wrote there
// that is no longer wanted (unexport, narrowed scope, a MemberCluster being deleted while its
// connection lives). Members it cannot write to keep what they have until it can. Members are
// written concurrently, each bounded by writeback.Member's timeout, so a hanging member delays the
// pass by that much at most. A member that fails is logged and recorded in the report; it
// never fails the pass (the store and the hub's mirrors are already written) nor stops the
// other members, and the next pass retries.
func (f *Federation) writeBack(ctx context.Context, res *merge.Result, p *pass, ports map[portKey]int32) writeback.Report {
	wants := writeback.Wants(res, p.clusters, p.segments)
	exports := exportStates(res, p.problems)
	zones := writeback.Zones(p.clusters, p.segments)
	lookup := func(g *model.GlobalService, port model.Port) int32 {
		return ports[portKey{svc: merge.KeyOf(g), port: port.Port, protocol: port.Protocol}]
	}
	opts := writeback.Options{Log: f.log, Retry: f.Trigger}
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		report writeback.Report
	)
	members := f.members.List(f.now())
	slices := sliceSources(res, members, f.opts.Slices)
	slices.Memo = &f.slices
	for _, m := range members {
		if m.Stale || !m.Federated() {
			continue
		}
		wg.Go(func() {
			want := writeback.Want{Imports: wants[m.Cluster.Name], Exports: exports[m.Cluster.Name], Zones: zones, Slices: slices}
			own, err := writeback.Member(ctx, m.Conn, want, lookup, opts)
			if err != nil && ctx.Err() == nil {
				f.log.Warn("write-back into member failed", "member", m.Cluster.Name, "error", err)
				own.Fail(m.Cluster.Name, err)
			}
			mu.Lock()
			report.Merge(&own)
			mu.Unlock()
		})
	}
	wg.Wait()
	return report
}

// sliceSources is what the members' MCS EndpointSlices are made from: each global service's
// endpoints per source cluster as an importing member may address them, and the members'
// cluster IDs.
func sliceSources(res *merge.Result, members []Member, mode writeback.SliceMode) writeback.Slices {
	byKey := make(map[merge.Key]*merge.Service, len(res.Services))
	for i := range res.Services {
		byKey[res.Services[i].Key()] = &res.Services[i]
	}
	ids := make(map[string]string, len(members))
	for _, m := range members {
		if m.ClusterID != "" {
			ids[m.Cluster.Name] = m.ClusterID
		}
	}
	return writeback.Slices{Mode: mode, ClusterIDs: ids, Endpoints: func(g *model.GlobalService, member string) []merge.ClusterEndpoints {
		if s := byKey[merge.KeyOf(g)]; s != nil {
			return s.EndpointsFor(member)
		}
		return nil
	}}
}

// exportStates maps each member to what became of the Services it exports: the global service
// each was merged into, and the values the hub could not use.
func exportStates(res *merge.Result, problems []clusterProblem) map[string]map[types.NamespacedName]writeback.ExportState {
	out := map[string]map[types.NamespacedName]writeback.ExportState{}
	state := func(cluster string, k types.NamespacedName) writeback.ExportState {
		if out[cluster] == nil {
			out[cluster] = map[types.NamespacedName]writeback.ExportState{}
		}
		return out[cluster][k]
	}
	for i := range res.Services {
		g := &res.Services[i].Global
		k := types.NamespacedName{Namespace: g.Namespace, Name: g.Name}
		for _, e := range g.Exporters {
			st := state(e.Cluster, k)
			st.Global = g
			out[e.Cluster][k] = st
		}
	}
	for _, p := range problems {
		st := state(p.Cluster, p.Service)
		st.Problems = append(st.Problems, p.ValueProblem)
		out[p.Cluster][p.Service] = st
	}
	return out
}
