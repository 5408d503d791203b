package http1

import (
	"net"
	"sync"
	"time"
)

// h1Idle tracks whether an HTTP/1.1 client connection waits for its next request, so that a
// drain closes it then and only then: a request that has begun to arrive is served.
type h1Idle struct {
	mu       sync.Mutex
	c        net.Conn
	idle     bool
	draining bool
}

// wait marks the connection idle before it waits for the next request; false when draining
// has begun (close the connection).
func (h *h1Idle) wait() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.idle = !h.draining
	return !h.draining
}

// busy marks the connection as reading a request. The caller sets its read deadline after
// this, which overrides the one drain may have set meanwhile.
func (h *h1Idle) busy() {
	h.mu.Lock()
	h.idle = false
	h.mu.Unlock()
}

// drain wakes an idle connection's wait at once (its read fails) and makes a busy one close
// after its response.
func (h *h1Idle) drain() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.draining = true
	if h.idle {
		_ = h.c.SetReadDeadline(time.Now())
	}
}

func (h *h1Idle) isDraining() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.draining
}
