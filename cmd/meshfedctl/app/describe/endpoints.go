package describe

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// storeView is what the federation store holds of one global service, read with the store's
// conversion.
type storeView struct {
	revision int64
	// service is nil when the store has no service record.
	service *model.PublishedService
	// endpoints holds one record per exporting cluster, sorted by cluster.
	endpoints []*model.PublishedEndpoints
	// waypoints holds the waypoints records of the clusters in endpoints, by cluster; read
	// only for a viewpoint (loadWaypoints).
	waypoints    map[string]*model.PublishedWaypoints
	decodeErrors []error
}

// loadStoreView reads the service record and every cluster's endpoints of one service. Values
// that do not decode are collected, not fatal.
func loadStoreView(ctx context.Context, st *store.Client, ns, domain, name string) (*storeView, error) {
	l, err := st.List(ctx, store.ServiceEndpointsPrefix(ns, domain, name))
	if err != nil {
		return nil, fmt.Errorf("failed to read endpoints of service %s/%s: %w", ns, name, err)
	}
	v := &storeView{revision: l.Revision}
	for _, r := range l.Endpoints() {
		e := r.Model()
		v.endpoints = append(v.endpoints, &e)
	}
	for _, derr := range l.Errors {
		v.decodeErrors = append(v.decodeErrors, derr)
	}
	e, found, err := st.Get(ctx, store.ServiceKey(ns, domain, name))
	switch {
	case err != nil && found:
		v.decodeErrors = append(v.decodeErrors, err)
	case err != nil:
		return nil, fmt.Errorf("failed to read service record %s/%s: %w", ns, name, err)
	case found:
		if r, ok := e.Record.(*store.ServiceRecord); ok {
			svc := r.Model()
			v.service = &svc
		}
	}
	return v, nil
}

// endpointColumns are the locality and health columns of every endpoint table.
var endpointColumns = []string{"ADDRESS", "PORTS", "NETWORK", "REGION", "ZONE", "SUBZONE", "NODE", "HEALTH"}

// writeEndpoints prints each exporting cluster's endpoints with locality and health.
func writeEndpoints(w io.Writer, v *storeView) error {
	if _, err := fmt.Fprintf(w, "Endpoints (federation store, revision %d):\n", v.revision); err != nil {
		return err
	}
	if v.service == nil {
		fmt.Fprintln(w, "  the store has no service record: the hub has not merged this service (yet)")
	}
	if len(v.endpoints) == 0 {
		_, err := fmt.Fprintf(w, "  %s\n", none)
		return err
	}
	for _, r := range v.endpoints {
		title := fmt.Sprintf("  %s (scope %s, %d/%d healthy%s):", r.Cluster, r.Scope, healthyCount(r.Endpoints), len(r.Endpoints), staleNote(r.Stale))
		rows := [][]string{endpointColumns}
		for i := range r.Endpoints {
			rows = append(rows, endpointCells(&r.Endpoints[i], r.Stale))
		}
		if err := table(w, title, "    ", rows); err != nil {
			return fmt.Errorf("failed to write endpoints of cluster %s: %w", r.Cluster, err)
		}
	}
	return nil
}

// endpointCells is one endpoint's row under endpointColumns.
func endpointCells(e *model.Endpoint, stale bool) []string {
	l := e.Locality
	return []string{e.Address, ports(e.Ports), orDash(l.Network), orDash(l.Region), orDash(l.Zone), orDash(l.Subzone), orDash(l.Node), health(e, stale)}
}

// health says whether an endpoint may take traffic and, if not, why.
func health(e *model.Endpoint, stale bool) string {
	h := "healthy"
	switch {
	case e.Terminating:
		h = "terminating"
	case !e.Ready:
		h = "not ready"
	case !e.Serving:
		h = "not serving"
	}
	if stale {
		h += " (stale)"
	}
	return h
}

// ports renders target ports as name:port.
func ports(ps []model.EndpointPort) string {
	if len(ps) == 0 {
		return "-"
	}
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.Name == "" {
			out = append(out, fmt.Sprint(p.Port))
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d", p.Name, p.Port))
	}
	return strings.Join(out, ",")
}

func healthyCount(eps []model.Endpoint) int {
	n := 0
	for i := range eps {
		if eps[i].Healthy() {
			n++
		}
	}
	return n
}

func staleNote(stale bool) string {
	if stale {
		return ", stale: cluster unreachable, endpoints kept for the grace period"
	}
	return ""
}
