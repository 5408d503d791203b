package hbone

import (
	"errors"
	"time"
)

// A dead path under an HTTP/2 connection (a link cut, a peer node gone) closes nothing: TCP
// retransmits into the void, and the keepalive PINGs notice only after KeepAlive of silence
// plus KeepAliveTimeout, 30 s by default, while every tunnel on the connection hangs. The pool
// therefore watches its busy HTTP/2 connections: one goroutine per Dialer, running only while
// some connection has streams in flight, reads each such connection's TCP_INFO every
// StallTimeout/stallTicks and closes the connection once its peer has acknowledged nothing for
// StallTimeout while data waited for an acknowledgement. Closing fails the tunnels and the
// CONNECTs waiting on it at once, and until a new connection to the peer completes, further
// tunnel opens to it fail at once too (errPeerStalled) while a dial runs in the background,
// so that callers retry elsewhere instead of waiting on a path that was just found dead.
//
// Why acknowledgements: the peer's kernel acknowledges whatever arrives whether its process is
// fast, slow or stopped, so only a path that drops packets, or a vanished host, is silent; a
// peer that does not read fills its receive window, after which nothing is sent and nothing
// waits for an acknowledgement (tcpi_unacked is 0 during zero-window probing). This is also why
// TCP_USER_TIMEOUT is not used: since Linux 5.10 it aborts a connection whose send window stayed
// closed that long, though the peer answers every probe. Why a retransmission timeout must have
// fired as well: it is the kernel's own estimate that an acknowledgement is overdue, so a path
// whose round trip nears StallTimeout is not taken for a dead one. Counting several timeouts,
// as an earlier check did, made the bound depend on the RTO and its backoff (the third fires
// 1.4 s after the loss at the 200 ms minimum RTO, later under load).

// stallTicks is how many samples a connection gets per StallTimeout: a stall is noticed
// between StallTimeout−tick and StallTimeout+2·tick (1.35–1.8 s by default) after the oldest
// unacknowledged data was sent (observe).
const stallTicks = 10

// minStallTimeout is the smallest StallTimeout accepted: Linux's minimum retransmission
// timeout, below which the timeout fired is the only condition left.
const minStallTimeout = 200 * time.Millisecond

// errPeerStalled fails a tunnel open while the peer's last connection was closed as stalled
// and no new one has completed yet.
var errPeerStalled = errors.New("hbone: the peer stopped acknowledging data; reconnecting")

// ackSample is what the kernel tells of a TCP connection's acknowledgements (readAckSample).
type ackSample struct {
	unacked  uint32        // segments sent and not acknowledged yet
	sinceAck time.Duration // time since the last acknowledgement arrived
	timedOut bool          // a retransmission timeout fired since the last acknowledgement of new data
}

// ackWatch follows one connection through samples taken every tick while it has streams in
// flight; a connection not sampled at a tick gets a zero ackWatch.
type ackWatch struct {
	// pendingSince is when the current run of samples with unacknowledged data began; zero
	// when the last sample had none.
	pendingSince time.Time
}

// observe records a sample taken at now. silent is how long the peer has acknowledged nothing
// while data waited for it: since the later of its last acknowledgement and the first sample
// of the run (the data may have been sent up to a tick earlier, so silent runs up to a tick
// short; when the run missed an acknowledgement that emptied and a send that refilled the
// queue between two samples, up to a tick long). stalled reports silent ≥ bound with a
// retransmission timeout fired.
func (w *ackWatch) observe(now time.Time, s ackSample, bound time.Duration) (silent time.Duration, stalled bool) {
	if s.unacked == 0 {
		w.pendingSince = time.Time{}
		return 0, false
	}
	if w.pendingSince.IsZero() {
		w.pendingSince = now
	}
	since := w.pendingSince
	if ack := now.Add(-s.sinceAck); ack.After(since) {
		since = ack
	}
	silent = now.Sub(since)
	return silent, s.timedOut && silent >= bound
}

// watchable reports whether the connections of key can be watched for stalls: HTTP/2 on
// Linux. QUIC has loss detection of its own but closes a connection only after its idle
// timeout (KeepAliveTimeout without a packet from the peer).
func watchable(key poolKey) bool { return ackSamplesSupported && key.protocol == ProtocolH2 }

// watchedConn is a busy connection and its key, as the stall watcher samples them.
type watchedConn struct {
	key poolKey
	c   *pooledMux
}

// watchLocked starts the stall watcher when key's connections can be watched and none runs.
func (p *pool) watchLocked(key poolKey) {
	if p.watching || p.stallTimeout <= 0 || !watchable(key) {
		return
	}
	p.watching = true
	go p.watchStalls()
}

// watchStalls samples the busy connections every tick and closes the stalled ones; it returns
// when no connection is busy (a later tunnel open starts it again) or the pool closes.
func (p *pool) watchStalls() {
	tick := time.NewTicker(p.stallTimeout / stallTicks)
	defer tick.Stop()
	var busy []watchedConn
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		var ok bool
		if busy, ok = p.busyConns(busy[:0]); !ok {
			return
		}
		now := time.Now()
		for _, w := range busy {
			s, ok := w.c.ackSample()
			if !ok {
				continue
			}
			if silent, stalled := w.c.watch.observe(now, s, p.stallTimeout); stalled {
				p.closeStalled(w, silent)
			}
		}
		clear(busy)
	}
}

// busyConns appends the watchable connections with streams in flight to busy and resets the
// watch of the idle ones. With none busy it marks the watcher stopped and returns false.
func (p *pool) busyConns(busy []watchedConn) ([]watchedConn, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, e := range p.entries {
		if !watchable(key) {
			continue
		}
		for _, c := range e.conns {
			if c.inFlight() == 0 {
				c.watch = ackWatch{}
				continue
			}
			busy = append(busy, watchedConn{key: key, c: c})
		}
	}
	if len(busy) == 0 {
		p.watching = false
		return busy, false
	}
	return busy, true
}

// closeStalled closes a stalled connection, failing its tunnels, and marks its key so that
// tunnel opens fail at once until a new connection completes.
func (p *pool) closeStalled(w watchedConn, silent time.Duration) {
	p.mu.Lock()
	if e, ok := p.entries[w.key]; ok {
		e.stalled = true
	}
	p.mu.Unlock()
	p.logger.Warn("Closing connection to peer: it has acknowledged nothing", "peer", w.key.addr,
		"silent", silent.Round(time.Millisecond), "streams", w.c.inFlight())
	_ = w.c.close()
}
