package table

import (
	"cmp"
	"slices"
	"sync/atomic"

	"github.com/meshfed/meshfed/waypoint/balance"
)

// Peers is the HBONE addresses of one cluster's waypoints (its WaypointsRecord) as one view
// knows them, and the SPIFFE ID their servers must present. Tunnels take the addresses in turn.
type Peers struct {
	cluster  string
	identity string
	addrs    []string
	next     atomic.Uint64
}

// NewPeers returns the peers of cluster at addrs (at least one), whose HBONE servers must
// present the SPIFFE ID identity.
func NewPeers(cluster, identity string, addrs ...string) *Peers {
	return &Peers{cluster: cluster, identity: identity, addrs: slices.Clone(addrs)}
}

// Cluster is the cluster whose waypoints these are.
func (p *Peers) Cluster() string { return p.cluster }

// Identity is the SPIFFE ID the peers' HBONE servers must present: the shared gateway's when
// the cluster's record names one (WaypointsRecord.Identity), else the namespace's waypoint ID
// (Options.WaypointID). Empty when the table was built without one: no tunnel may be opened.
func (p *Peers) Identity() string { return p.identity }

// Addrs are the waypoints' HBONE addresses, host:port; callers must not change them.
func (p *Peers) Addrs() []string { return p.addrs }

// Pick returns the next address in turn.
func (p *Peers) Pick() string {
	return p.addrs[(p.next.Add(1)-1)%uint64(len(p.addrs))]
}

// peerSets returns the peers of every cluster with at least one waypoint address; nil when
// tunnels are off. A record's Identity (a shared gateway's) is expected of its servers, else
// the namespace's waypoint ID.
func peerSets(st *state, opts *Options) map[string]*Peers {
	if !opts.Tunnels {
		return nil
	}
	out := make(map[string]*Peers, len(st.waypoints))
	for cluster, rec := range st.waypoints {
		if len(rec.Addresses) > 0 {
			out[cluster] = NewPeers(cluster, cmp.Or(rec.Identity, opts.WaypointID), rec.Addresses...)
		}
	}
	return out
}

// tunnelPeers returns the peers an endpoint of cluster on another network is tunneled
// through, or nil and the reason it cannot be routed.
func (b *builder) tunnelPeers(cluster string) (*Peers, string) {
	if !b.opts.Tunnels {
		return nil, SkipNoHBONE
	}
	if p := b.peers[cluster]; p != nil {
		return p, ""
	}
	return nil, SkipNoWaypoint
}

// tunnelHostKey is the host key of a target reached through HBONE, distinct from the same
// target reached directly so that the two paths keep separate outlier state.
func tunnelHostKey(key string) string { return key + " via hbone" }

// SetVia records that h is tunneled through via (nothing when via is nil); the table's builder
// calls it while the route is built, tests that build a route by hand too.
func (r *Route) SetVia(h *balance.Host, via *Peers) {
	if via == nil {
		return
	}
	if r.via == nil {
		r.via = make(map[*balance.Host]*Peers)
	}
	r.via[h] = via
}

// Via returns the waypoints h is tunneled through, nil for a direct endpoint.
func (r *Route) Via(h *balance.Host) *Peers { return r.via[h] }

// viaAddrs returns the waypoint addresses h is tunneled through and the identity they must
// present; nil and "" for a direct endpoint.
func (r *Route) viaAddrs(h *balance.Host) ([]string, string) {
	if p := r.via[h]; p != nil {
		return p.addrs, p.identity
	}
	return nil, ""
}
