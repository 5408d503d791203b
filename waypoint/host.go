package waypoint

import (
	"sync/atomic"
	"time"
)

// host is one endpoint target (address and port) of one route, identified across snapshots by
// key (cluster and address). Its counters are atomic; its outlier fields belong to its pool and
// are guarded by the pool's mutex.
type host struct {
	key     string
	cluster string
	addr    string

	// inflight counts connections open or being opened to the host (dial holds one per
	// connection); requests counts HTTP requests in flight to it, whatever connection they use.
	// Per-connection routes balance on inflight, per-request routes on requests.
	inflight atomic.Int64
	requests atomic.Int64
	connects atomic.Int64
	failures atomic.Int64

	consecutive  int // connect failures in a row
	run5xx       int // 5xx responses (and resets) in a row
	runGateway   int // 502, 503, 504 responses (and resets) in a row
	times        int
	ejectedUntil time.Time
}

// ejectedAt reports whether the host is ejected at now; the pool's mutex is held.
func (h *host) ejectedAt(now time.Time) bool { return now.Before(h.ejectedUntil) }

// hostKey identifies a target of a route across snapshots.
func hostKey(cluster, addr string) string { return cluster + "/" + addr }
