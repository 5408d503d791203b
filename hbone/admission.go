package hbone

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// source is where connections come from, for the per-source caps: an IPv4 address, or an
// IPv6 /64 (the least one host is usually given, so a host cannot dodge its cap by changing
// its address within it).
type source = netip.Prefix

// sourceOf returns the source of a remote address; the zero source when it has no IP.
func sourceOf(a net.Addr) source {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	default:
		if a == nil {
			return source{}
		}
		return sourceOfString(a.String())
	}
	return sourceOfIP(ip)
}

// sourceOfString returns the source of an "ip:port" remote address.
func sourceOfString(s string) source {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return source{}
	}
	return sourceOfIP(ap.Addr())
}

func sourceOfIP(ip netip.Addr) source {
	ip = ip.Unmap().WithZone("")
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return source{}
	}
	return p
}

// admitVerdict is an admission decision; its String names what was exceeded.
type admitVerdict int

// Verdicts of admission.admit.
const (
	admitted admitVerdict = iota
	overTotal
	overSource
	overHandshakes
	overTunnels
	overSourceTunnels
	numVerdicts
)

// String names the verdict, e.g. "per-source".
func (v admitVerdict) String() string {
	return [...]string{"admitted", "total", "per-source", "per-source-handshakes", "tunnels", "per-source-tunnels"}[v]
}

// sourceLoad is what one source holds: open connections, how many of them are still in
// their handshake, and open tunnels.
type sourceLoad struct {
	conns, handshakes, tunnels int
}

// admission counts the connections a Server holds, in total and per source, over both
// transports, and refuses those over Limits.MaxConnections, Limits.MaxConnectionsPerSource or
// Limits.MaxHandshakesPerSource. A source's entry exists while it holds connections, so the
// map is bounded by MaxConnections.
type admission struct {
	maxConns, maxPerSource, maxHandshakes int
	maxTunnels, maxSourceTunnels          int

	mu      sync.Mutex
	total   int
	tunnels int
	sources map[source]*sourceLoad

	refused [numVerdicts]atomic.Uint64
}

func newAdmission(l Limits) *admission {
	return &admission{
		maxConns: l.MaxConnections, maxPerSource: l.MaxConnectionsPerSource, maxHandshakes: l.MaxHandshakesPerSource,
		maxTunnels: l.MaxTunnels, maxSourceTunnels: l.MaxTunnelsPerSource,
		sources: make(map[source]*sourceLoad),
	}
}

// admit counts a new connection of src, in its handshake, unless a cap is reached.
func (a *admission) admit(src source) admitVerdict {
	a.mu.Lock()
	defer a.mu.Unlock()
	load := a.sources[src]
	v := admitted
	switch {
	case a.total >= a.maxConns:
		v = overTotal
	case load != nil && load.conns >= a.maxPerSource:
		v = overSource
	case load != nil && load.handshakes >= a.maxHandshakes:
		v = overHandshakes
	}
	if v != admitted {
		a.refused[v].Add(1)
		return v
	}
	if load == nil {
		load = &sourceLoad{}
		a.sources[src] = load
	}
	a.total++
	load.conns++
	load.handshakes++
	return admitted
}

// handshakeDone counts a connection of src admitted by admit as past its handshake.
func (a *admission) handshakeDone(src source) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.handshakeDoneLocked(src)
}

func (a *admission) handshakeDoneLocked(src source) {
	if load := a.sources[src]; load != nil && load.handshakes > 0 {
		load.handshakes--
	}
}

// release forgets a connection of src admitted by admit; handshaking says whether it never
// finished its handshake.
func (a *admission) release(src source, handshaking bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.releaseLocked(src, handshaking)
}

func (a *admission) releaseLocked(src source, handshaking bool) {
	load := a.sources[src]
	if load == nil {
		return
	}
	a.total--
	load.conns--
	if handshaking && load.handshakes > 0 {
		load.handshakes--
	}
	if load.conns <= 0 && load.tunnels <= 0 {
		delete(a.sources, src)
	}
}

// admitTunnel counts a new tunnel of src unless MaxTunnels or MaxTunnelsPerSource is reached.
func (a *admission) admitTunnel(src source) admitVerdict {
	a.mu.Lock()
	defer a.mu.Unlock()
	load := a.sources[src]
	v := admitted
	switch {
	case a.tunnels >= a.maxTunnels:
		v = overTunnels
	case load != nil && load.tunnels >= a.maxSourceTunnels:
		v = overSourceTunnels
	}
	if v != admitted {
		a.refused[v].Add(1)
		return v
	}
	if load == nil {
		load = &sourceLoad{}
		a.sources[src] = load
	}
	a.tunnels++
	load.tunnels++
	return admitted
}

// releaseTunnel forgets a tunnel of src admitted by admitTunnel.
func (a *admission) releaseTunnel(src source) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tunnels--
	if load := a.sources[src]; load != nil {
		load.tunnels--
		if load.conns <= 0 && load.tunnels <= 0 {
			delete(a.sources, src)
		}
	}
}

// busy reports whether src holds at least MaxHandshakesPerSource connections: a QUIC source
// that busy must prove its address (a Retry round trip) before it gets more, so that packets
// with a forged source address cannot use up the cap of the address they forge.
func (a *admission) busy(src source) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	load := a.sources[src]
	return load != nil && load.conns >= a.maxHandshakes
}

// quicAdmitted is the admission state of one QUIC connection, kept in its context; its flags
// are guarded by the admission's mutex.
type quicAdmitted struct {
	src              source
	shaken, released bool
}

type quicAdmittedKey struct{}

// admitQUIC is quic.Transport.ConnContext: it admits a QUIC connection attempt or refuses it
// (quic-go answers CONNECTION_REFUSED), and releases it when the connection ends, the
// handshake failing included.
func (a *admission) admitQUIC(ctx context.Context, remote net.Addr) (context.Context, error) {
	src := sourceOf(remote)
	if v := a.admit(src); v != admitted {
		return nil, &admissionError{verdict: v}
	}
	st := &quicAdmitted{src: src}
	context.AfterFunc(ctx, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		st.released = true
		a.releaseLocked(src, !st.shaken)
	})
	return context.WithValue(ctx, quicAdmittedKey{}, st), nil
}

// quicHandshakeDone counts the QUIC connection of ctx (a context admitQUIC returned, or one
// derived from it) as past its handshake.
func (a *admission) quicHandshakeDone(ctx context.Context) {
	st, ok := ctx.Value(quicAdmittedKey{}).(*quicAdmitted)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !st.shaken && !st.released {
		st.shaken = true
		a.handshakeDoneLocked(st.src)
	}
}

// admissionError is the error of a refused connection.
type admissionError struct{ verdict admitVerdict }

func (e *admissionError) Error() string {
	return "hbone: connection refused: " + e.verdict.String() + " connection limit reached"
}
