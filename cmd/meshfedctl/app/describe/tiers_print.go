package describe

import (
	"cmp"
	"fmt"
	"io"
	"strings"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
	wptable "github.com/meshfed/meshfed/waypoint/table"
)

// tierColumns are the columns of each tier's endpoint table.
var tierColumns = []string{"ADDRESS", "CLUSTER", "NETWORK", "REGION", "ZONE", "SUBZONE", "NODE", "HEALTH"}

// writeTiers prints the viewpoint, which exports it sees, and each route's tiers with their
// load share and endpoints, and the endpoints the waypoint would not route.
func writeTiers(w io.Writer, tv *tierView) error {
	c := tv.client
	fmt.Fprintf(w, "Tiers from %s (network %s, region %s, zone %s), traffic distribution %s:\n",
		viewpointName(tv.from), orNone(c.Network), orNone(c.Region), orNone(c.Zone), distributionName(tv.dist))
	if tv.visible == nil {
		_, err := fmt.Fprintf(w, "  %s does not import this service: no export is addressable from it\n", tv.from.Cluster)
		return err
	}
	if tv.policy != nil && !tv.policy.IsZero() {
		fmt.Fprintf(w, "  Load policy: %s\n", loadPolicyText(tv.policy))
	}
	fmt.Fprintf(w, "  Visible exports: %s\n", list(tv.visible))
	for _, e := range tv.hidden {
		fmt.Fprintf(w, "  Not visible: %s (scope %s)\n", e.Cluster, e.Scope)
	}
	if len(tv.routes) == 0 {
		_, err := fmt.Fprintf(w, "  Tiers: %s (no port has a waypoint port: waypoints do not route this service)\n", none)
		return err
	}
	for _, r := range tv.routes {
		if err := writeRouteTiers(w, tv, r, len(tv.routes) > 1); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, "  Load assumes no outlier ejections: each waypoint ejects failing endpoints on its own.")
	return err
}

// writeRouteTiers prints one route's tiers, headed by its port when the service has several.
func writeRouteTiers(w io.Writer, tv *tierView, r *wptable.Route, named bool) error {
	if named {
		fmt.Fprintf(w, "  Port %s (%d), waypoint port %d, protocol %s:\n", orNone(r.PortName), r.Port, r.ListenPort, r.Protocol)
	}
	if r.Problem != "" {
		fmt.Fprintf(w, "  Problem: %s\n", r.Problem)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "  Not routed: %s (%s): %s\n", cmp.Or(s.Address, "its endpoints"), s.Cluster, s.Reason)
	}
	if len(r.Endpoints) == 0 {
		_, err := fmt.Fprintf(w, "  Tiers: %s (no endpoints)\n", none)
		return err
	}
	load, health := &r.Plan.Load, r.Tiers.Health(r.Endpoints, r.Ejected)
	if load.TotalPanic {
		fmt.Fprintln(w, "  Every tier is in panic: load follows endpoint counts.")
	}
	for t, members := range r.Tiers.Members {
		h := health[t]
		title := fmt.Sprintf("  Tier %d: load %d%% (%d%% to degraded), %d/%d healthy, %d degraded, health %d%%, panic %s",
			t, load.Share(t), load.DegradedPercent[t], h.Healthy, h.Total, h.Degraded, load.Health[t], yesNo(load.Panic[t]))
		rows := [][]string{tierColumns}
		for _, i := range members {
			rows = append(rows, tierCells(&r.Endpoints[i], r.Targets[i], tv.stale[r.Host(i).Cluster()]))
		}
		if err := table(w, title, "    ", rows); err != nil {
			return fmt.Errorf("failed to write tier %d: %w", t, err)
		}
	}
	return nil
}

// tierCells is one endpoint's row under tierColumns. An aggregated cluster's one endpoint has
// no address: it shows its target, the service that cluster's waypoint balances, and its
// weight, the cluster's healthy endpoints.
func tierCells(e *model.Endpoint, target string, stale bool) []string {
	l := e.Locality
	addr := e.Address
	if addr == "" {
		addr = fmt.Sprintf("%s via its waypoint (weight %d)", target, e.EffectiveWeight())
	}
	return []string{addr, orDash(l.Cluster), orDash(l.Network), orDash(l.Region), orDash(l.Zone), orDash(l.Subzone), orDash(l.Node), health(e, stale)}
}

func viewpointName(vp viewpoint) string {
	if vp.Zone == "" {
		return vp.Cluster
	}
	return vp.Cluster + "/" + vp.Zone
}

func distributionName(d model.Distribution) string {
	if d.Mode == model.ModeFailoverPriority {
		return fmt.Sprintf("%s (%s)", d.Mode, list(d.FailoverPriority))
	}
	return orNone(string(d.Mode))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// loadPolicyText describes the settings a load policy sets, for example "overprovisioning
// factor 200% (default 140%), panic threshold off (default 50%), remote endpoints aggregated
// (default each)".
func loadPolicyText(p *model.LoadPolicy) string {
	var parts []string
	if p.OverprovisioningFactor != nil {
		parts = append(parts, fmt.Sprintf("overprovisioning factor %d%% (default %d%%)", *p.OverprovisioningFactor, priority.DefaultOverprovisioningFactor))
	}
	if t := p.PanicThreshold; t != nil && *t == 0 {
		parts = append(parts, fmt.Sprintf("panic threshold off (default %d%%)", priority.DefaultPanicThreshold))
	} else if t != nil {
		parts = append(parts, fmt.Sprintf("panic threshold %d%% (default %d%%)", *t, priority.DefaultPanicThreshold))
	}
	if p.RemoteEndpoints != "" {
		parts = append(parts, fmt.Sprintf("remote endpoints %s (default %s)", p.RemoteEndpoints, model.RemoteEndpointsEach))
	}
	return strings.Join(parts, ", ")
}
