package balance

import (
	"sync/atomic"
	"time"
)

// Host is one endpoint target (address and port) of one route, identified across table views
// by key (cluster and address). Its counters are atomic; its outlier fields belong to its Pool
// and are guarded by the pool's mutex.
type Host struct {
	key     string
	cluster string
	addr    string

	// InFlight counts connections open or being opened to the host (a dial holds one per
	// connection); Requests counts HTTP requests in flight to it, whatever connection they use.
	// Per-connection routes balance on InFlight, per-request routes on Requests.
	InFlight atomic.Int64
	Requests atomic.Int64
	connects atomic.Int64
	failures atomic.Int64

	consecutive  int // connect failures in a row
	run5xx       int // 5xx responses (and resets) in a row
	runGateway   int // 502, 503, 504 responses (and resets) in a row
	times        int
	ejectedUntil time.Time
}

// NewHost returns a host outside any pool, for callers that keep their own (tests, pickers).
func NewHost(key, cluster, addr string) *Host {
	return &Host{key: key, cluster: cluster, addr: addr}
}

// Key identifies the host across table views (HostKey, or a variant of it).
func (h *Host) Key() string { return h.key }

// Cluster is the cluster of the host's endpoint.
func (h *Host) Cluster() string { return h.cluster }

// Addr is the host's target, ip:port.
func (h *Host) Addr() string { return h.addr }

// Connects counts the connects tried to the host; Failures those that failed.
func (h *Host) Connects() int64 { return h.connects.Load() }

// Failures counts the connects to the host that failed.
func (h *Host) Failures() int64 { return h.failures.Load() }

// ejectedAt reports whether the host is ejected at now; the pool's mutex is held.
func (h *Host) ejectedAt(now time.Time) bool { return now.Before(h.ejectedUntil) }

// HostKey identifies a target of a route across table views.
func HostKey(cluster, addr string) string { return cluster + "/" + addr }
