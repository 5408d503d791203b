package controller

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

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
}

// memberConn is one member's connection with what the hub tracks about it.
type memberConn struct {
	conn       *member.Connection
	credHash   [sha256.Size]byte
	cluster    model.Cluster
	stopProbe  context.CancelFunc
	mu         sync.Mutex
	lastSync   time.Time
	unreachAt  time.Time // zero while reachable
	probeError string
}

// NewMembers returns the member registry; changed is called (without locks held) whenever a
// member's state or objects change.
func NewMembers(hub client.Client, opts MembersOptions, log *slog.Logger, changed func()) *Members {
	return &Members{hub: hub, opts: opts, log: log, changed: changed, conns: map[string]*memberConn{}}
}

// Member is a snapshot of one connected member for the federation loop.
type Member struct {
	Cluster model.Cluster
	Conn    *member.Connection
	// Stale: the API server is unreachable, within the grace period.
	Stale bool
	// Withdrawn: unreachable for longer than the grace period.
	Withdrawn bool
	LastSync  time.Time
}

// List returns every connected member, sorted by name.
func (m *Members) List(now time.Time) []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.conns))
	for _, mc := range m.conns {
		mc.mu.Lock()
		unreach := !mc.unreachAt.IsZero()
		withdrawn := unreach && now.Sub(mc.unreachAt) >= m.opts.StaleGrace
		out = append(out, Member{Cluster: mc.cluster, Conn: mc.conn, Stale: unreach && !withdrawn, Withdrawn: withdrawn, LastSync: mc.lastSync})
		mc.mu.Unlock()
	}
	sortMembers(out)
	return out
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
