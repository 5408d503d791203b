package describe

import (
	"fmt"
	"io"
	"strings"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
)

// tierColumns are the columns of each tier's endpoint table.
var tierColumns = []string{"ADDRESS", "CLUSTER", "NETWORK", "REGION", "ZONE", "SUBZONE", "NODE", "HEALTH"}

// writeTiers prints the viewpoint, which exports it sees, and each tier with its load share
// and endpoints.
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
	if len(tv.endpoints) == 0 {
		_, err := fmt.Fprintf(w, "  Tiers: %s (no endpoints)\n", none)
		return err
	}
	if tv.load.TotalPanic {
		fmt.Fprintln(w, "  Every tier is in panic: load follows endpoint counts.")
	}
	for t, members := range tv.tiers.Members {
		h := tv.health[t]
		title := fmt.Sprintf("  Tier %d: load %d%% (%d%% to degraded), %d/%d healthy, %d degraded, health %d%%, panic %s",
			t, tv.load.Share(t), tv.load.DegradedPercent[t], h.Healthy, h.Total, h.Degraded, tv.load.Health[t], yesNo(tv.load.Panic[t]))
		rows := [][]string{tierColumns}
		for _, i := range members {
			rows = append(rows, tierCells(&tv.endpoints[i], tv.stale[i]))
		}
		if err := table(w, title, "    ", rows); err != nil {
			return fmt.Errorf("failed to write tier %d: %w", t, err)
		}
	}
	_, err := fmt.Fprintln(w, "  Load assumes no outlier ejections: each waypoint ejects failing endpoints on its own.")
	return err
}

// tierCells is one endpoint's row under tierColumns.
func tierCells(e *model.Endpoint, stale bool) []string {
	l := e.Locality
	return []string{e.Address, orDash(l.Cluster), orDash(l.Network), orDash(l.Region), orDash(l.Zone), orDash(l.Subzone), orDash(l.Node), health(e, stale)}
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
// factor 200% (default 140%), panic threshold off (default 50%)".
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
	return strings.Join(parts, ", ")
}
