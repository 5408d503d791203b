package waypoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/waypoint/balance"
	"github.com/meshfed/meshfed/waypoint/table"
)

// errTunnelTimeout is the cause of a tunnel dial cut short by the per-try timeout.
var errTunnelTimeout = errors.New("tunnel dial timed out")

// open connects to h: directly over TCP when it is on this waypoint's network, else through an
// HBONE tunnel to a waypoint of its cluster. Each try is bounded by ConnectTimeout.
func (o *Outbound) open(ctx context.Context, r *table.Route, h *balance.Host) (net.Conn, error) {
	via := r.Via(h)
	if via == nil {
		d := net.Dialer{Timeout: o.opts.ConnectTimeout}
		return d.DialContext(ctx, "tcp", h.Addr())
	}
	if o.tunnels == nil {
		return nil, fmt.Errorf("failed to tunnel to %s: HBONE dialer not running", h.Addr())
	}
	return o.tunnels.dial(ctx, via, h.Addr())
}

// tunnels opens HBONE tunnels to endpoints on other networks through their clusters'
// waypoints, pooling connections per waypoint address.
type tunnels struct {
	dialer  *hbone.Dialer
	peerID  identity.ID
	proto   hbone.Protocol
	timeout time.Duration
}

// newTunnels starts the HBONE dialer of opts (HBONE enabled); close releases it.
func newTunnels(opts Options) (*tunnels, error) {
	l := opts.Locality
	d, err := hbone.NewDialer(hbone.Options{
		Source:      opts.HBONE.Identity,
		Locality:    hbone.Locality{Cluster: opts.Cluster, Namespace: opts.Namespace, Network: l.Network, Region: l.Region, Zone: l.Zone},
		DialTimeout: opts.ConnectTimeout,
		Logger:      opts.Logger.With("component", "waypoint-hbone-dialer", "namespace", opts.Namespace),
	})
	if err != nil {
		return nil, fmt.Errorf("failed to start HBONE dialer: %w", err)
	}
	return &tunnels{dialer: d, peerID: opts.HBONE.peerID(opts.Namespace), proto: opts.HBONE.Protocol, timeout: opts.ConnectTimeout}, nil
}

func (t *tunnels) close() { _ = t.dialer.Close() }

// dial opens a tunnel to target (ip:port) through one of via's addresses, expecting the peer
// to be a waypoint of this namespace whose certificate names via's cluster. The per-try
// timeout bounds the dial only (hbone.Dialer.Dial's context does not outlive the dial); the
// dial's context is released when the returned conn is closed (or ctx ends).
func (t *tunnels) dial(ctx context.Context, via *table.Peers, target string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(target)
	if err != nil {
		return nil, fmt.Errorf("failed to parse tunnel target %s: %w", target, err)
	}
	peer := hbone.Peer{Address: via.Pick(), Identity: t.peerID, Cluster: via.Cluster(), Protocol: t.proto}
	tctx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(t.timeout, func() { cancel(errTunnelTimeout) })
	c, err := t.dialer.Dial(tctx, peer, ap, hbone.Metadata{ForwardedFor: clientAddr(ctx)})
	if !timer.Stop() && err == nil {
		_ = c.Close()
		err = errTunnelTimeout
	}
	if err != nil {
		if errors.Is(context.Cause(tctx), errTunnelTimeout) && !errors.Is(err, errTunnelTimeout) {
			err = fmt.Errorf("%w after %s: %w", errTunnelTimeout, t.timeout, err)
		}
		cancel(nil)
		return nil, fmt.Errorf("failed to tunnel to %s via %s (cluster %s): %w", target, peer.Address, via.Cluster(), err)
	}
	return &tunnelConn{Conn: c, cancel: func() { cancel(nil) }}, nil
}

// tunnelConn is an open tunnel whose Close also ends the context it was opened with.
type tunnelConn struct {
	*hbone.Conn
	cancel func()
}

// Close closes the tunnel and ends its context.
func (c *tunnelConn) Close() error {
	err := c.Conn.Close()
	c.cancel()
	return err
}

// clientKey is the context key of the address of the client a connection is carried for.
type clientKey struct{}

// withClientAddr records the client's address for the Forwarded header of tunnels.
func withClientAddr(ctx context.Context, a net.Addr) context.Context {
	return context.WithValue(ctx, clientKey{}, a)
}

// clientAddr returns the client address recorded by withClientAddr, or an invalid Addr.
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

// crossNetworkMode describes, for /debug/endpoints, how endpoints on other networks are
// reached.
func crossNetworkMode(o *HBONEOptions) string {
	if !o.Enabled() {
		return "disabled: no certificate files, routing same-network endpoints only"
	}
	return "hbone " + o.Protocol.String() + " through the waypoints of each cluster's store record"
}
