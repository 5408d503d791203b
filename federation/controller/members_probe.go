package controller

import (
	"cmp"
	"context"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// probeTimeout bounds one probe. It does not shrink with ProbeInterval: a loaded hub or member
// can take a second to answer a read, and a probe that timed out after a short interval
// (300 ms in the hub's tests) marked a healthy member unreachable, its endpoints stale, and wrote
// them twice. A probe that outlasts the interval delays the next one. A stopped API server or a
// revoked token fails a probe at once; only a hung one takes probeTimeout to notice.
const probeTimeout = 5 * time.Second

// probe reads the member's kube-system Namespace every ProbeInterval with the hub's own
// credentials: an answer proves the API server is reachable and the credentials are accepted
// and authorized (a GET of /version would pass with revoked credentials, since anyone may read
// it), and gives the cluster's ID, the namespace's UID. The first failure marks the member
// unreachable (its endpoints turn stale, then are withdrawn after StaleGrace) and its Ready
// condition False within one probe period; the first success after that marks it reachable and
// Ready again. The informers reconnect and relist on their own, so a member that comes back
// resyncs without anything being withdrawn and re-added.
func (m *Members) probe(ctx context.Context, mc *memberConn, cfg *rest.Config) {
	pc := rest.CopyConfig(cfg)
	pc.Timeout = probeTimeout
	cs, err := kubernetes.NewForConfig(pc)
	if err != nil {
		m.log.Error("cannot probe member", "member", mc.conn.Name(), "error", err)
		return
	}
	t := time.NewTicker(m.opts.ProbeInterval)
	defer t.Stop()
	for {
		ns, perr := cs.CoreV1().Namespaces().Get(ctx, wellknown.ClusterIDNamespace, metav1.GetOptions{})
		if ctx.Err() != nil {
			return
		}
		id := ""
		if perr == nil {
			id = string(ns.UID)
		}
		if m.recordProbe(mc, id, perr, time.Now()) {
			m.changed()
			m.logReady(ctx, mc.conn.Name())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probeReason classifies a failed probe for the Ready condition.
func probeReason(err error) meshfedv1.MemberClusterConditionReason {
	if apierrors.IsUnauthorized(err) || apierrors.IsForbidden(err) {
		return meshfedv1.MemberClusterReasonCredentialsRefused
	}
	return meshfedv1.MemberClusterReasonUnreachable
}

// recordProbe updates reachability and the cluster ID, and reports whether the federation must
// look again: on a change, and on every failed probe so the grace period's end is noticed.
func (m *Members) recordProbe(mc *memberConn, clusterID string, err error, now time.Time) bool {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if err != nil {
		reason := probeReason(err)
		if mc.unreachAt.IsZero() {
			mc.unreachAt = now
			m.log.Warn("member unreachable; keeping its endpoints as stale", "member", mc.conn.Name(), "reason", reason, "grace", m.opts.StaleGrace, "error", err)
		}
		mc.probeReason, mc.probeError = reason, err.Error()
		return true
	}
	idChanged := mc.clusterID != clusterID
	mc.clusterID = clusterID
	if mc.unreachAt.IsZero() {
		return idChanged
	}
	m.log.Info("member reachable again", "member", mc.conn.Name(), "after", now.Sub(mc.unreachAt))
	mc.unreachAt, mc.probeReason, mc.probeError, mc.lastSync = time.Time{}, "", "", now
	return true
}

func sortMembers(ms []Member) {
	slices.SortFunc(ms, func(a, b Member) int { return cmp.Compare(a.Cluster.Name, b.Cluster.Name) })
}
