package waypoint

import (
	"context"
	"fmt"
	"net"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/waypoint/balance"
	"github.com/meshfed/meshfed/waypoint/table"
	"github.com/meshfed/meshfed/waypoint/tunnel"
)

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
	return o.tunnels.Dial(ctx, via, h.Addr())
}

// newTunnels starts the HBONE dialer of opts (HBONE enabled); Close releases it.
func newTunnels(opts Options) (*tunnel.Dialer, error) {
	l := opts.Locality
	return tunnel.New(tunnel.Config{
		Source:   opts.HBONE.Identity,
		Locality: hbone.Locality{Cluster: opts.Cluster, Namespace: opts.Namespace, Network: l.Network, Region: l.Region, Zone: l.Zone},
		Protocol: opts.HBONE.Protocol,
		Timeout:  opts.ConnectTimeout,
		Logger:   opts.Logger.With("component", "waypoint-hbone-dialer", "namespace", opts.Namespace),
	})
}

// crossNetworkMode describes, for /debug/endpoints, how endpoints on other networks are
// reached.
func crossNetworkMode(o *HBONEOptions) string {
	if !o.Enabled() {
		return "disabled: no certificate files, routing same-network endpoints only"
	}
	return "hbone " + o.Protocol.String() + " through the waypoints of each cluster's store record"
}
