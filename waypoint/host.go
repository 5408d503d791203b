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

	inflight atomic.Int64
	connects atomic.Int64
	failures atomic.Int64

	consecutive  int
	times        int
	ejectedUntil time.Time
}

// ejectedAt reports whether the host is ejected at now; the pool's mutex is held.
func (h *host) ejectedAt(now time.Time) bool { return now.Before(h.ejectedUntil) }

// hostKey identifies a target of a route across snapshots.
func hostKey(cluster, addr string) string { return cluster + "/" + addr }
