package table

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"

	"github.com/meshfed/meshfed/waypoint/balance"
)

// DebugTable is the JSON document of /debug/endpoints.
type DebugTable struct {
	Revision int64 `json:"revision"`
	Ready    bool  `json:"ready"`
	// CrossNetwork says how endpoints on other networks are reached (see crossNetworkMode).
	CrossNetwork string       `json:"crossNetwork"`
	Routes       []DebugRoute `json:"routes"`
	// Inbound lists the service ports whose remote endpoints are aggregated, as this
	// waypoint's inbound server balances the tunnels that name them over its own cluster's
	// endpoints (listenPort 0), by hostname and port.
	Inbound []DebugRoute `json:"inbound,omitempty"`
}

// DebugRoute is one route of DebugTable.
type DebugRoute struct {
	Service      string             `json:"service"`
	Hostname     string             `json:"hostname"`
	PortName     string             `json:"portName,omitempty"`
	Port         int32              `json:"port"`
	ListenPort   int32              `json:"listenPort"`
	Distribution model.Distribution `json:"distribution"`
	Protocol     Protocol           `json:"protocol"`
	// OverprovisioningFactor and PanicThreshold are the load split's settings in force for the
	// route, in percent (the service's load policy over the waypoint's options); a threshold of
	// 0 means panic is off.
	OverprovisioningFactor uint32 `json:"overprovisioningFactor"`
	PanicThreshold         uint32 `json:"panicThreshold"`
	// TierPercent is each tier's share of the route's traffic going to its healthy endpoints,
	// TierDegradedPercent the share going to its degraded ones; TierPanic marks tiers in panic.
	TierPercent         []uint32 `json:"tierPercent"`
	TierDegradedPercent []uint32 `json:"tierDegradedPercent"`
	TierPanic           []bool   `json:"tierPanic"`
	// Aggregated reports that each cluster on another network is one endpoint, tunnelled to
	// the service by name (its target is the service's host:port, its weight the cluster's
	// healthy endpoints).
	Aggregated bool            `json:"aggregated,omitempty"`
	Endpoints  []DebugEndpoint `json:"endpoints"`
	Skipped    []Skipped       `json:"skipped,omitempty"`
	Problem    string          `json:"problem,omitempty"`
}

// DebugEndpoint is one routable endpoint of DebugRoute.
type DebugEndpoint struct {
	Cluster  string         `json:"cluster"`
	Target   string         `json:"target"`
	Locality model.Locality `json:"locality"`
	Tier     int            `json:"tier"`
	// Healthy is ready, serving, not terminating and not ejected; Degraded is serving and
	// terminating and not ejected (picked only when the tier's healthy ones do not suffice).
	Healthy     bool   `json:"healthy"`
	Degraded    bool   `json:"degraded"`
	Ready       bool   `json:"ready"`
	Serving     bool   `json:"serving"`
	Terminating bool   `json:"terminating,omitempty"`
	Weight      uint32 `json:"weight"`
	// Via lists the HBONE addresses of the waypoints an endpoint on another network is
	// tunneled through; empty for a direct connection.
	Via []string `json:"via,omitempty"`
	// ViaIdentity is the SPIFFE ID those waypoints must present: the namespace's waypoint ID, or
	// the shared gateway's that the cluster's record names.
	ViaIdentity string `json:"viaIdentity,omitempty"`
	balance.OutlierState
	// TierShare is the endpoint's share of its tier's traffic in percent (0 when it is not a
	// candidate of its tier); Share is its share of the route's traffic.
	TierShare float64 `json:"tierShare"`
	Share     float64 `json:"share"`
	InFlight  int64   `json:"inFlight"`
	// Requests counts HTTP requests in flight (per-request routes balance on it; InFlight
	// counts connections).
	Requests int64 `json:"requestsInFlight"`
	Connects int64 `json:"connects"`
	Failures int64 `json:"connectFailures"`
}

// Debug renders the current table for /debug/endpoints.
func (t *Table) Debug() DebugTable {
	s := t.View()
	now := t.clock.Now()
	d := DebugTable{Revision: t.Revision(), Ready: t.Ready(), CrossNetwork: t.opts.CrossNetwork, Routes: make([]DebugRoute, 0, len(s.Routes))}
	for _, r := range s.Routes {
		d.Routes = append(d.Routes, debugRoute(r, now))
	}
	for _, k := range slices.SortedFunc(maps.Keys(s.services), func(a, b tunnelName) int {
		return cmp.Or(cmp.Compare(a.host, b.host), cmp.Compare(a.port, b.port))
	}) {
		d.Inbound = append(d.Inbound, debugRoute(s.services[k].route, now))
	}
	return d
}

func debugRoute(r *Route, now time.Time) DebugRoute {
	dr := DebugRoute{
		Service: r.Service(), Hostname: r.Hostname, PortName: r.PortName, Port: r.Port, ListenPort: r.ListenPort,
		Distribution: r.Distribution, Protocol: r.Protocol, Aggregated: r.Aggregated, TierPercent: r.Plan.Load.Percent,
		TierDegradedPercent: r.Plan.Load.DegradedPercent, TierPanic: r.Plan.Load.Panic,
		Skipped: r.Skipped, Problem: r.Problem, Endpoints: make([]DebugEndpoint, 0, len(r.Endpoints)),
	}
	dr.OverprovisioningFactor, dr.PanicThreshold = r.Load.Effective()
	shares, degraded := tierShares(r, r.Plan.Tier), tierShares(r, r.Plan.DegradedTier)
	for i := range r.Endpoints {
		ep, h := &r.Endpoints[i], r.hosts[i]
		tier := r.Tiers.Of[i]
		via, viaID := r.viaAddrs(h)
		dr.Endpoints = append(dr.Endpoints, DebugEndpoint{
			Cluster: h.Cluster(), Target: h.Addr(), Locality: ep.Locality, Tier: tier,
			Healthy: ep.Healthy() && !r.ejected[i], Ready: ep.Ready, Serving: ep.Serving, Terminating: ep.Terminating,
			Weight: ep.EffectiveWeight(), Via: via, ViaIdentity: viaID, OutlierState: r.pool.State(h, now),
			Degraded: ep.Degraded() && !r.ejected[i], TierShare: tierShare(&r.Plan.Load, tier, shares[i], degraded[i]),
			Share:    (shares[i]*float64(r.Plan.Load.Percent[tier]) + degraded[i]*float64(r.Plan.Load.DegradedPercent[tier])) / 100,
			InFlight: h.InFlight.Load(), Requests: h.Requests.Load(), Connects: h.Connects(), Failures: h.Failures(),
		})
	}
	return dr
}

// tierShare is an endpoint's share of its tier's traffic from its share among the tier's
// healthy candidates and among its degraded ones, weighted by the tier's two loads.
func tierShare(l *priority.Load, t int, healthy, degraded float64) float64 {
	h, d := float64(l.Percent[t]), float64(l.DegradedPercent[t])
	if h+d == 0 {
		return healthy
	}
	return (healthy*h + degraded*d) / (h + d)
}

// tierShares is each endpoint's weighted share, in percent, among the candidates that set
// gives for each tier (the healthy or the degraded ones).
func tierShares(r *Route, set func(t int) *priority.Candidates) []float64 {
	out := make([]float64, len(r.Endpoints))
	for t := range r.Tiers.Len() {
		idx := set(t).Indices()
		total := uint64(0)
		for _, i := range idx {
			total += uint64(r.Endpoints[i].EffectiveWeight())
		}
		for _, i := range idx {
			out[i] = 100 * float64(r.Endpoints[i].EffectiveWeight()) / float64(total)
		}
	}
	return out
}
