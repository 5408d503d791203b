package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/waypoint/table"
)

// ErrTimeout is the cause of a tunnel dial cut short by the per-try timeout.
var ErrTimeout = errors.New("tunnel dial timed out")

// Config is what a Dialer needs: the waypoint's credentials and locality, the transport and
// the bound of one dial. The identity a peer must present comes with its table.Peers.
type Config struct {
	// Source supplies the waypoint's certificate, key and roots.
	Source identity.Source
	// Locality is the waypoint's, sent to peers in the tunnels' baggage.
	Locality hbone.Locality
	// Protocol is hbone.ProtocolH2 or hbone.ProtocolH3 (which falls back to HTTP/2).
	Protocol hbone.Protocol
	// Timeout bounds one dial, the connection to the peer included.
	Timeout time.Duration
	// Logger receives the dialer's warnings.
	Logger *slog.Logger
}

// New starts the HBONE dialer of c; Close releases it.
func New(c Config) (*Dialer, error) {
	d, err := hbone.NewDialer(hbone.Options{Source: c.Source, Locality: c.Locality, DialTimeout: c.Timeout, Logger: c.Logger})
	if err != nil {
		return nil, fmt.Errorf("failed to start HBONE dialer: %w", err)
	}
	return &Dialer{dialer: d, proto: c.Protocol, timeout: c.Timeout}, nil
}

// Dialer opens HBONE tunnels to endpoints on other networks through their clusters'
// waypoints, pooling connections per waypoint address and expected identity.
type Dialer struct {
	dialer  *hbone.Dialer
	proto   hbone.Protocol
	timeout time.Duration
}

// Close closes the pooled connections; open tunnels end with them.
func (t *Dialer) Close() { _ = t.dialer.Close() }

// Dial opens a tunnel to target through one of via's addresses: an endpoint's ip:port, or a
// service's name and port (hbone.ParseServiceAuthority), whose endpoint the peer picks among
// its own cluster's (an aggregated remote cluster, table.Route). It expects the peer
// to present via's identity (the namespace's waypoint, or the shared gateway its cluster's
// record names) in a certificate naming via's cluster. The per-try timeout bounds the dial
// only (hbone.Dialer.Dial's context does not outlive the dial); the dial's context is
// released when the returned conn is closed (or ctx ends).
func (t *Dialer) Dial(ctx context.Context, via *table.Peers, target string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(target)
	var service string
	if err != nil {
		var port uint16
		if service, port, err = hbone.ParseServiceAuthority(target); err != nil {
			return nil, fmt.Errorf("failed to parse tunnel target %s: %w", target, err)
		}
		ap = netip.AddrPortFrom(netip.Addr{}, port)
	}
	id, err := peerID(via.Identity())
	if err != nil {
		return nil, fmt.Errorf("failed to tunnel to %s via cluster %s: %w", target, via.Cluster(), err)
	}
	peer := hbone.Peer{Address: via.Pick(), Identity: id, Cluster: via.Cluster(), Protocol: t.proto}
	tctx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(t.timeout, func() { cancel(ErrTimeout) })
	md := hbone.Metadata{ForwardedFor: clientAddr(ctx)}
	var c *hbone.Conn
	if service != "" {
		c, err = t.dialer.DialService(tctx, peer, service, ap.Port(), md)
	} else {
		c, err = t.dialer.Dial(tctx, peer, ap, md)
	}
	if !timer.Stop() && err == nil {
		_ = c.Close()
		err = ErrTimeout
	}
	if err != nil {
		if errors.Is(context.Cause(tctx), ErrTimeout) && !errors.Is(err, ErrTimeout) {
			err = fmt.Errorf("%w after %s: %w", ErrTimeout, t.timeout, err)
		}
		cancel(nil)
		return nil, fmt.Errorf("failed to tunnel to %s via %s (cluster %s): %w", target, peer.Address, via.Cluster(), err)
	}
	return &conn{Conn: c, cancel: func() { cancel(nil) }}, nil
}

// conn is an open tunnel whose Close also ends the context it was opened with.
type conn struct {
	*hbone.Conn
	cancel func()
}

// Close closes the tunnel and ends its context.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.cancel()
	return err
}

// clientKey is the context key of the address of the client a connection is carried for.
type clientKey struct{}

// WithClientAddr records the client's address for the Forwarded header of tunnels.
func WithClientAddr(ctx context.Context, a net.Addr) context.Context {
	return context.WithValue(ctx, clientKey{}, a)
}

// clientAddr returns the client address recorded by WithClientAddr, or an invalid Addr.
func clientAddr(ctx context.Context) netip.Addr {
	a, _ := ctx.Value(clientKey{}).(net.Addr)
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// peerID parses the identity a peer must present. The zero ID would let any workload of the
// trust domain through, so an empty one is an error, as is one that does not parse.
func peerID(s string) (identity.ID, error) {
	if s == "" {
		return identity.ID{}, errors.New("failed to parse peer identity: none expected of the peers")
	}
	id, err := identity.ParseID(s)
	if err != nil {
		return identity.ID{}, fmt.Errorf("failed to parse peer identity %q: %w", s, err)
	}
	return id, nil
}

// ConnCount counts the pooled connections of the given protocol to the peer of cluster at
// addr that must present id: how many tunnels share a transport connection shows in tests and
// benchmarks.
func (t *Dialer) ConnCount(addr, cluster, id string, proto hbone.Protocol) int {
	pid, err := peerID(id)
	if err != nil {
		return 0
	}
	return t.dialer.ConnCount(hbone.Peer{Address: addr, Identity: pid, Cluster: cluster, Protocol: proto}, proto)
}
