package controller

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/model"
)

// MembersOptions configure the member connections.
type MembersOptions struct {
	// Namespace holds the members' kubeconfig Secrets on the hub.
	Namespace string
	// StaleGrace is how long an unreachable member's endpoints are kept, marked stale.
	StaleGrace time.Duration
	// ProbeInterval is how often each member's API server is probed.
	ProbeInterval time.Duration
	// SyncTimeout bounds the first cache sync of a new connection.
	SyncTimeout time.Duration
	// Standby starts the registry as a standby replica's (see Members.Lead).
	Standby bool
}

// Members keeps one live connection per MemberCluster and tells the federation loop when any
// member's objects or reachability changed.
type Members struct {
	hub     client.Client
	opts    MembersOptions
	log     *slog.Logger
	changed func()

	mu    sync.Mutex
	conns map[string]*memberConn

	// pending holds when the hub saw each change not yet written to the store, oldest first
	// (for the propagation histogram); guarded by pendingMu.
	pendingMu sync.Mutex
	pending   []time.Time

	// standby is set while the registry only keeps connections warm (see Lead); requeue asks
	// the controller to reconcile a MemberCluster again.
	standby atomic.Bool
	requeue chan event.GenericEvent
	// tried are the MemberClusters reconciled at least once, connected or not (see Warm);
	// guarded by mu.
	tried map[string]bool
}

// memberConn is one member's connection with what the hub tracks about it.
type memberConn struct {
	conn      *member.Connection
	credHash  [sha256.Size]byte
	cluster   model.Cluster
	stopProbe context.CancelFunc
	// created is the MemberCluster's creation time: of two members that are the same
	// cluster, the older one is federated.
	created time.Time
	// events counts the events the connection's informer handlers saw (see Member.Events).
	events atomic.Uint64

	mu          sync.Mutex
	lastSync    time.Time // when the caches last (re)listed: connected, or reachable again
	clusterID   string    // the kube-system namespace's UID, once a probe read it
	unreachAt   time.Time // zero while reachable
	probeReason meshfedv1.MemberClusterConditionReason
	probeError  string
}

// NewMembers returns the member registry; changed is called (without locks held) whenever a
// member's state or objects change.
func NewMembers(hub client.Client, opts MembersOptions, log *slog.Logger, changed func()) *Members {
	m := &Members{hub: hub, opts: opts, log: log, changed: changed, conns: map[string]*memberConn{}, requeue: make(chan event.GenericEvent), tried: map[string]bool{}}
	m.standby.Store(opts.Standby)
	return m
}

// Member is a snapshot of one connected member for the federation loop.
type Member struct {
	Cluster model.Cluster
	Conn    *member.Connection
	// Stale: the API server is unreachable, within the grace period.
	Stale bool
	// Withdrawn: unreachable for longer than the grace period.
	Withdrawn bool
	// ProbeReason is why the last probe failed (Unreachable, CredentialsRefused), with the
	// error in ProbeError; empty while the probes succeed.
	ProbeReason meshfedv1.MemberClusterConditionReason
	ProbeError  string
	// LastSync is when the member's caches last (re)listed its objects.
	LastSync time.Time
	// Events is how many events the connection's informer handlers had seen when the snapshot
	// was taken. A handler counts its event before it wakes the federation loop, and client-go
	// updates a cache before it calls the handlers: a pass that read Events before the caches,
	// and reads the same number next time, saw every change whose handler had run (a later
	// handler wakes another pass). Counts of two connections are not comparable.
	Events uint64
	// ClusterID is the cluster's kube-system namespace UID; empty until a probe read it.
	ClusterID string
	// DuplicateOf names an older member that is the same cluster (same ClusterID); a
	// duplicate is neither federated nor written to.
	DuplicateOf string
}

// Federated reports whether the member's objects are merged and written back: connected,
// reachable within the grace period, and not a second name for another member's cluster.
func (m *Member) Federated() bool { return !m.Withdrawn && m.DuplicateOf == "" }

// List returns every connected member, sorted by name.
func (m *Members) List(now time.Time) []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.conns))
	for _, mc := range m.conns {
		mc.mu.Lock()
		unreach := !mc.unreachAt.IsZero()
		withdrawn := unreach && now.Sub(mc.unreachAt) >= m.opts.StaleGrace
		out = append(out, Member{Cluster: mc.cluster, Conn: mc.conn, Stale: unreach && !withdrawn, Withdrawn: withdrawn, ClusterID: mc.clusterID, LastSync: mc.lastSync,
			ProbeReason: mc.probeReason, ProbeError: mc.probeError, Events: mc.events.Load()})
		mc.mu.Unlock()
	}
	sortMembers(out)
	markDuplicates(out, m.createdLocked())
	return out
}

// createdLocked maps each connected member to its MemberCluster's creation time; m.mu is held.
func (m *Members) createdLocked() map[string]time.Time {
	out := make(map[string]time.Time, len(m.conns))
	for name, mc := range m.conns {
		out[name] = mc.created
	}
	return out
}

// markDuplicates sets DuplicateOf on every member whose ClusterID an older member (by
// creation time, then name) has too: one cluster joined under two names is federated once.
func markDuplicates(ms []Member, created map[string]time.Time) {
	oldest := map[string]int{}
	for i := range ms {
		id := ms[i].ClusterID
		if id == "" {
			continue
		}
		j, seen := oldest[id]
		// ms is sorted by name, so on equal creation times the earlier index wins.
		if !seen || created[ms[i].Cluster.Name].Before(created[ms[j].Cluster.Name]) {
			oldest[id] = i
		}
	}
	for i := range ms {
		if j, ok := oldest[ms[i].ClusterID]; ok && j != i {
			ms[i].DuplicateOf = ms[j].Cluster.Name
		}
	}
}

// Get returns the connected member name as List would, and whether it is connected.
func (m *Members) Get(name string, now time.Time) (Member, bool) {
	for _, mb := range m.List(now) {
		if mb.Cluster.Name == name {
			return mb, true
		}
	}
	return Member{}, false
}

// Close stops every connection.
func (m *Members) Close() {
	m.mu.Lock()
	conns := m.conns
	m.conns = map[string]*memberConn{}
	m.mu.Unlock()
	for _, mc := range conns {
		mc.close()
	}
}

func (mc *memberConn) close() {
	if mc.stopProbe != nil {
		mc.stopProbe()
	}
	mc.conn.Close()
}

func clusterOf(mc *meshfedv1.MemberCluster) model.Cluster {
	seg := mc.Spec.Segment
	if seg == "" {
		seg = wellknown.DefaultSegment
	}
	return model.Cluster{Name: mc.Name, Segment: seg, Network: mc.Spec.Network, Region: mc.Spec.Region}
}
