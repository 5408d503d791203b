package describe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/waypoint"
)

// maxDebugBytes bounds the /debug/endpoints document read from a waypoint.
const maxDebugBytes = 16 << 20

// fetchWaypoint reads a waypoint's /debug/endpoints from its admin base URL.
func fetchWaypoint(ctx context.Context, base string) (*waypoint.DebugTable, error) {
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
	var d waypoint.DebugTable
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDebugBytes)).Decode(&d); err != nil {
		return nil, fmt.Errorf("failed to decode %s: %w", u, err)
	}
	return &d, nil
}

// writeWaypoint prints the live routes of gs in one waypoint: per port, the load of each tier
// and each endpoint's tier, health, ejection and share, as the waypoint routes right now.
func writeWaypoint(w io.Writer, base string, d *waypoint.DebugTable, gs *meshfedv1.GlobalService) error {
	fmt.Fprintf(w, "Waypoint %s (store revision %d, ready %v, cross-network %s):\n", base, d.Revision, d.Ready, d.CrossNetwork)
	found := false
	for _, r := range d.Routes {
		if r.Service != gs.Namespace+"/"+gs.Spec.ServiceName || r.Hostname != gs.Spec.Hostname {
			continue
		}
		found = true
		fmt.Fprintf(w, "  Port %s %d → waypoint port %d (%s, %s)\n", r.PortName, r.Port, r.ListenPort, r.Protocol, r.Distribution.Mode)
		for t, pct := range r.TierPercent {
			mark := ""
			if t < len(r.TierPanic) && r.TierPanic[t] {
				mark = " (panic)"
			}
			fmt.Fprintf(w, "    Tier %d: load %d%%%s\n", t, pct, mark)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "    CLUSTER\tENDPOINT\tZONE\tTIER\tHEALTHY\tEJECTED\tSHARE\tIN FLIGHT\tVIA")
		for _, e := range r.Endpoints {
			ejected := "-"
			if e.Ejected {
				ejected = fmt.Sprintf("until %s (%d×)", e.EjectedUntil.Format(time.TimeOnly), e.TimesEjected)
			}
			via := "direct"
			if len(e.Via) > 0 {
				via = "hbone " + strings.Join(e.Via, ",")
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%d\t%v\t%s\t%.1f%%\t%d\t%s\n", e.Cluster, e.Target, e.Locality.Zone, e.Tier, e.Healthy, ejected, e.Share, max(e.InFlight, e.Requests), via)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, s := range r.Skipped {
			fmt.Fprintf(w, "    skipped %+v\n", s)
		}
		if r.Problem != "" {
			fmt.Fprintf(w, "    problem: %s\n", r.Problem)
		}
	}
	if !found {
		_, err := fmt.Fprintf(w, "  no route for %s: the waypoint has not received it, or its cluster does not import it\n", gs.Spec.Hostname)
		return err
	}
	return nil
}
