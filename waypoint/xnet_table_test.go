package waypoint

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/waypoint/table"
)

// newTestTable is the table of shop's waypoint in cluster east, built as New builds it.
func newTestTable(t *testing.T) *table.Table {
	t.Helper()
	opts := Options{Namespace: "shop", Cluster: "east", Locality: self, Clock: newManualClock(), Logger: testLogger}
	if err := opts.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return NewTable(opts)
}

func TestTableWithoutHBONESaysSo(t *testing.T) {
	tab := newTestTable(t)
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: put(1,
		service(20000, model.ModeAny), endpoints("west", endpoint("10.1.0.1", 8080, otherNetwork)), waypointsRecord("west", "n2", "192.0.2.1:15008"),
	)})
	d := tab.Debug()
	if d.CrossNetwork != crossNetworkMode(&HBONEOptions{}) || len(d.Routes[0].Skipped) != 1 || d.Routes[0].Skipped[0].Reason != table.SkipNoHBONE {
		t.Fatalf("debug table without HBONE: %+v", d)
	}
}

// TestInboundAuthorizes checks the handler's decisions; nothing is dialed for a denied tunnel
// because every denied target here is a port nothing listens on or a live backend whose
// accept count is checked.
func TestInboundAuthorizes(t *testing.T) {
	pki := newTestPKI(t)
	b := startBackend(t, "b", "127.0.0.71")
	unready := endpoint("127.0.0.72", 8080, westWaypoint)
	unready.Ready = false
	opts := Options{
		Namespace: "shop", Cluster: "west", Locality: westWaypoint, Logger: testLogger,
		HBONE:                  HBONEOptions{Identity: pki.waypointSource(t, "west"), ListenAddress: "127.0.0.1:0"},
		AllowLoopbackEndpoints: true,
	}
	tab := NewTable(opts)
	in, err := NewInbound(tab, opts)
	if err != nil {
		t.Fatalf("NewInbound: %v", err)
	}
	backend := netip.AddrPortFrom(netip.MustParseAddr(b.ip), uint16(b.port))
	// req is a request of caller whose certificate names cluster and whose Baggage claims
	// cluster too, or claims when set.
	req := func(caller string, cluster string, target netip.AddrPort, claims ...string) *hbone.Request {
		id, err := identity.ParseID(caller)
		if err != nil {
			t.Fatalf("ParseID: %v", err)
		}
		claimed := cluster
		if len(claims) > 0 {
			claimed = claims[0]
		}
		h := http.Header{}
		if claimed != "" {
			h.Set("Baggage", hbone.FormatBaggage(hbone.Locality{Cluster: claimed, Namespace: "shop"}))
		}
		return &hbone.Request{Caller: id, CallerCluster: cluster, Target: target, Header: h}
	}
	const waypointEast = "spiffe://cluster.local/ns/shop/sa/meshfed-waypoint"
	if _, err := in.Connect(t.Context(), req(waypointEast, "east", backend)); refusal(err) != http.StatusServiceUnavailable {
		t.Fatalf("before the table is synced: %v, want 503", err)
	}
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: put(1,
		service(20000, model.ModeAny), endpoints("west", b.endpoint(westWaypoint), unready),
	)})
	tests := []struct {
		name    string
		req     *hbone.Request
		allow   []string
		wantErr int // 0: allowed
	}{
		{"waypoint of the namespace, importing cluster, ready endpoint", req(waypointEast, "east", backend), nil, 0},
		{"waypoint of another namespace", req("spiffe://cluster.local/ns/other/sa/meshfed-waypoint", "east", backend), nil, http.StatusForbidden},
		{"other service account of the namespace", req("spiffe://cluster.local/ns/shop/sa/web", "east", backend), nil, http.StatusForbidden},
		{"other trust domain", req("spiffe://example.org/ns/shop/sa/meshfed-waypoint", "east", backend), nil, http.StatusForbidden},
		{"no caller cluster", req(waypointEast, "", backend), nil, http.StatusForbidden},
		{"no cluster in the certificate, east claimed", req(waypointEast, "", backend, "east"), nil, http.StatusForbidden},
		{"caller cluster does not import the service", req(waypointEast, "north", backend), nil, http.StatusForbidden},
		{"north claiming east", req(waypointEast, "north", backend, "east"), nil, http.StatusForbidden},
		{"east claiming north", req(waypointEast, "east", backend, "north"), nil, 0},
		{"unready endpoint", req(waypointEast, "east", netip.MustParseAddrPort("127.0.0.72:8080")), nil, http.StatusForbidden},
		{"port the endpoint does not serve", req(waypointEast, "east", netip.AddrPortFrom(backend.Addr(), backend.Port()+1)), nil, http.StatusForbidden},
		{"address of no endpoint", req(waypointEast, "east", netip.MustParseAddrPort("127.0.0.73:8080")), nil, http.StatusForbidden},
		{"allow-listed identity", req("spiffe://cluster.local/ns/gateway/sa/edge", "east", backend), []string{"spiffe://cluster.local/ns/gateway/sa/edge"}, 0},
		{"waypoint not in the allow list", req(waypointEast, "east", backend), []string{"spiffe://cluster.local/ns/gateway/sa/edge"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler := in
			if tt.allow != nil {
				o := opts
				for _, s := range tt.allow {
					id, _ := identity.ParseID(s)
					o.HBONE.AllowCallers = append(o.HBONE.AllowCallers, id)
				}
				if handler, err = NewInbound(tab, o); err != nil {
					t.Fatalf("NewInbound: %v", err)
				}
			}
			before := b.accepted.Load()
			c, err := handler.Connect(t.Context(), tt.req)
			if tt.wantErr == 0 {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				_ = c.Close()
				waitAccepted(t, b, before+1)
				return
			}
			if got := refusal(err); got != tt.wantErr {
				t.Fatalf("Connect: %v, want a refusal with status %d", err, tt.wantErr)
			}
			if b.accepted.Load() != before {
				t.Fatal("a denied tunnel reached the backend")
			}
		})
	}
}

// refusal is the status of an hbone.Refusal error, or 0.
func refusal(err error) int {
	if r, ok := errors.AsType[*hbone.Refusal](err); ok {
		return r.Status
	}
	return 0
}

func waitAccepted(t *testing.T, b *backend, n int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	for b.accepted.Load() < n {
		if ctx.Err() != nil {
			t.Fatalf("backend accepted %d connections, want %d", b.accepted.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestValidateCertificateCluster: a waypoint whose certificate names no cluster, or another
// than its own, could neither be authorized by its peers nor pass their check of its server,
// so it does not start.
func TestValidateCertificateCluster(t *testing.T) {
	pki := newTestPKI(t)
	for _, tt := range []struct {
		cluster string
		ok      bool
	}{{"east", true}, {"west", false}, {"", false}} {
		opts := Options{Namespace: "shop", Cluster: "east", HBONE: HBONEOptions{Identity: pki.waypointSource(t, tt.cluster)}}
		if err := opts.Validate(); (err == nil) != tt.ok {
			t.Errorf("certificate naming cluster %q: Validate = %v, want ok=%v", tt.cluster, err, tt.ok)
		}
	}
}
