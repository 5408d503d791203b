package controller

import (
	"cmp"
	"context"
	"slices"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// probe asks the member's API server for /version every ProbeInterval (reachability with the
// hub's own credentials; /readyz would also report the server's internal readiness). The first failure marks
// the member unreachable (its endpoints turn stale, then are withdrawn after StaleGrace); the
// first success after that marks it reachable again. The informers reconnect and relist on
// their own, so a member that comes back resyncs without anything being withdrawn and re-added.
func (m *Members) probe(ctx context.Context, mc *memberConn, cfg *rest.Config) {
	pc := rest.CopyConfig(cfg)
	pc.Timeout = min(m.opts.ProbeInterval, 5*time.Second)
	dc, err := discovery.NewDiscoveryClientForConfig(pc)
	if err != nil {
		m.log.Error("cannot probe member", "member", mc.conn.Name(), "error", err)
		return
	}
	t := time.NewTicker(m.opts.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, perr := dc.ServerVersion()
		if ctx.Err() != nil {
			return
		}
		if m.recordProbe(mc, perr, time.Now()) {
			m.changed()
		}
	}
}

// recordProbe updates reachability and reports whether the federation must look again: on a
// change, and on every failed probe so the grace period's end is noticed.
func (m *Members) recordProbe(mc *memberConn, err error, now time.Time) bool {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if err != nil {
		if mc.unreachAt.IsZero() {
			mc.unreachAt = now
			m.log.Warn("member unreachable; keeping its endpoints as stale", "member", mc.conn.Name(), "grace", m.opts.StaleGrace, "error", err)
		}
		mc.probeError = err.Error()
		return true
	}
	if mc.unreachAt.IsZero() {
		mc.lastSync = now
		return false
	}
	m.log.Info("member reachable again", "member", mc.conn.Name(), "after", now.Sub(mc.unreachAt))
	mc.unreachAt, mc.probeError, mc.lastSync = time.Time{}, "", now
	return true
}

func sortMembers(ms []Member) {
	slices.SortFunc(ms, func(a, b Member) int { return cmp.Compare(a.Cluster.Name, b.Cluster.Name) })
}
