package describe

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	wptable "github.com/meshfed/meshfed/waypoint/table"
)

// maxDebugBytes bounds the /debug/endpoints document read from a waypoint.
const maxDebugBytes = 16 << 20

// fetchWaypoint reads a waypoint's /debug/endpoints from its admin base URL.
func fetchWaypoint(ctx context.Context, base string) (*wptable.DebugTable, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u := strings.TrimSuffix(base, "/") + "/debug/endpoints"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to read waypoint %s: %w", base, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to read waypoint %s: %w", base, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("failed to read waypoint %s: %s", u, resp.Status)
	}
	var d wptable.DebugTable
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDebugBytes)).Decode(&d); err != nil {
		return nil, fmt.Errorf("failed to decode %s: %w", u, err)
	}
	return &d, nil
}

// writeWaypoint prints the live routes of gs in one waypoint: per port, the load of each tier
// and a table of the endpoints with their tier, health, ejection, share and tunnel, and the
// endpoints the waypoint cannot route, with the reason.
func writeWaypoint(w io.Writer, base string, d *wptable.DebugTable, gs *meshfedv1.GlobalService) error {
	fmt.Fprintf(w, "Waypoint %s:\n", base)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	field(tw, "  Ready", yesNo(d.Ready))
	field(tw, "  Store Revision", fmt.Sprint(d.Revision))
	field(tw, "  Cross-Network", d.CrossNetwork)
	if err := tw.Flush(); err != nil {
		return err
	}
	found := false
	for i := range d.Routes {
		r := &d.Routes[i]
		if r.Service != gs.Namespace+"/"+gs.Spec.ServiceName || r.Hostname != gs.Spec.Hostname {
			continue
		}
		found = true
		if err := writeRoute(w, r); err != nil {
			return err
		}
	}
	if !found {
		_, err := fmt.Fprintf(w, "  no route for %s: the waypoint has not received it, or its cluster does not import it\n", gs.Spec.Hostname)
		return err
	}
	return nil
}

// writeRoute prints one port's route.
func writeRoute(w io.Writer, r *wptable.DebugRoute) error {
	fmt.Fprintf(w, "  Port %s %d → waypoint port %d (%s, %s):\n", orDash(r.PortName), r.Port, r.ListenPort, r.Protocol, distributionName(r.Distribution))
	for t, pct := range r.TierPercent {
		panicked := t < len(r.TierPanic) && r.TierPanic[t]
		fmt.Fprintf(w, "    Tier %d: load %d%%, panic %s\n", t, pct, yesNo(panicked))
	}
	rows := [][]string{{"TIER", "CLUSTER", "ENDPOINT", "ZONE", "HEALTH", "EJECTED", "SHARE", "IN FLIGHT", "VIA"}}
	for _, e := range r.Endpoints {
		rows = append(rows, []string{
			fmt.Sprint(e.Tier), e.Cluster, e.Target, orDash(e.Locality.Zone), liveHealth(&e), ejection(&e),
			fmt.Sprintf("%.1f%%", e.Share), fmt.Sprint(max(e.InFlight, e.Requests)), via(e.Via),
		})
	}
	if err := table(w, "    Endpoints:", "      ", rows); err != nil {
		return err
	}
	if len(r.Skipped) > 0 {
		rows := [][]string{{"CLUSTER", "ADDRESS", "REASON"}}
		for _, s := range r.Skipped {
			rows = append(rows, []string{s.Cluster, cmp.Or(s.Address, "(all)"), s.Reason}) // no address: the cluster skipped whole
		}
		if err := table(w, "    Not routed:", "      ", rows); err != nil {
			return err
		}
	}
	if r.Problem != "" {
		_, err := fmt.Fprintf(w, "    Problem: %s\n", oneLine(r.Problem))
		return err
	}
	return nil
}

// liveHealth says whether a waypoint's endpoint takes traffic and, if not, why.
func liveHealth(e *wptable.DebugEndpoint) string {
	switch {
	case e.Healthy:
		return "healthy"
	case e.Ejected:
		return "ejected"
	case e.Terminating:
		return "terminating"
	case !e.Ready:
		return "not ready"
	case !e.Serving:
		return "not serving"
	default:
		return "unhealthy"
	}
}

// ejection says until when an endpoint is ejected, and how often it was.
func ejection(e *wptable.DebugEndpoint) string {
	if !e.Ejected {
		return "-"
	}
	return fmt.Sprintf("until %s (%d×)", e.EjectedUntil.UTC().Format(time.TimeOnly), e.TimesEjected)
}

// via is "direct", or the HBONE addresses an endpoint is tunneled through.
func via(addrs []string) string {
	if len(addrs) == 0 {
		return "direct"
	}
	return "hbone " + strings.Join(addrs, ",")
}
