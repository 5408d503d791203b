package waypoint

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

func newTestTable(t *testing.T) *Table {
	t.Helper()
	opts := Options{Namespace: "shop", Cluster: "east", Locality: self, Clock: newManualClock(), Logger: testLogger}
	if err := opts.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return NewTable(opts)
}

func put(rev int64, records ...store.Record) []store.Event {
	out := make([]store.Event, 0, len(records))
	for _, r := range records {
		out = append(out, store.Event{Type: store.EventPut, Key: r.Key(), Record: r, Revision: rev})
	}
	return out
}

func TestTableAddressesOnlyWhatItImports(t *testing.T) {
	const wp = 20000
	east := endpoints("east", endpoint("10.0.0.1", 8080, sameZone))
	west := endpoints("west", endpoint("10.0.0.2", 8080, otherZone), endpoint("10.0.0.3", 8080, otherNetwork))
	noPort := endpoint("10.0.0.4", 8080, otherZone)
	noPort.Ports[0].Name = "other"
	westNoPort := endpoints("west", noPort)
	withImports := func(imports ...model.Import) *store.ServiceRecord {
		return edit(service(wp, model.ModeAny), func(s *model.PublishedService) { s.Imports = imports })
	}
	tests := []struct {
		name        string
		records     []store.Record
		wantTargets []string // nil: no route at all
		wantSkipped []string
	}{
		{
			name:        "imported from both clusters; the other network is skipped without HBONE",
			records:     []store.Record{service(wp, model.ModeAny), east, west},
			wantTargets: []string{"10.0.0.1:8080", "10.0.0.2:8080"},
			wantSkipped: []string{SkipNoHBONE},
		},
		{
			name:        "From limits the clusters",
			records:     []store.Record{withImports(model.Import{Cluster: "east", From: []string{"east"}}), east, west},
			wantTargets: []string{"10.0.0.1:8080"},
		},
		{
			name:    "not imported by this cluster",
			records: []store.Record{withImports(model.Import{Cluster: "west", From: []string{"east", "west"}}), east, west},
		},
		{
			name:        "unsorted imports still found",
			records:     []store.Record{withImports(model.Import{Cluster: "west", From: []string{"west"}}, model.Import{Cluster: "east", From: []string{"west"}}), east, west},
			wantTargets: []string{"10.0.0.2:8080"},
			wantSkipped: []string{SkipNoHBONE},
		},
		{
			name:        "endpoint without the port's target port",
			records:     []store.Record{service(wp, model.ModeAny), westNoPort},
			wantTargets: []string{},
			wantSkipped: []string{SkipNoTargetPort},
		},
		{
			name:    "endpoints without a service",
			records: []store.Record{east, west},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := newTestTable(t)
			tab.Apply(store.Batch{Snapshot: true, Revision: 7, Events: put(7, tt.records...)})
			if !tab.Ready() || tab.Revision() != 7 {
				t.Fatalf("ready %v revision %d, want true 7", tab.Ready(), tab.Revision())
			}
			r := tab.View().Route(wp)
			if tt.wantTargets == nil {
				if r != nil {
					t.Fatalf("route %v, want none", r.Targets)
				}
				return
			}
			if r == nil {
				t.Fatal("no route")
			}
			if !slices.Equal(r.Targets, tt.wantTargets) && !(len(r.Targets) == 0 && len(tt.wantTargets) == 0) {
				t.Errorf("targets %v, want %v", r.Targets, tt.wantTargets)
			}
			var skipped []string
			for _, s := range r.Skipped {
				skipped = append(skipped, s.Reason)
			}
			if !slices.Equal(skipped, tt.wantSkipped) {
				t.Errorf("skipped %v, want %v", skipped, tt.wantSkipped)
			}
		})
	}
}

func TestTableEventsAndSnapshots(t *testing.T) {
	const wp = 20000
	tab := newTestTable(t)
	svc := service(wp, model.ModeAny)
	east := endpoints("east", endpoint("10.0.0.1", 8080, sameZone))
	tab.Apply(store.Batch{Snapshot: true, Revision: 3, Events: put(3, svc, east)})
	first := tab.View()

	// A value that failed to decode removes what was held for its key.
	bad := store.Event{Type: store.EventPut, Key: east.Key(), Err: &store.DecodeError{Key: east.Key().String(), Err: store.ErrUnsupportedVersion}, Revision: 4}
	tab.Apply(store.Batch{Revision: 4, Events: []store.Event{bad}})
	if r := tab.View().Route(wp); r == nil || len(r.Targets) != 0 {
		t.Fatalf("after an undecodable endpoints value: %+v, want the route with no endpoint", r)
	}
	if first.Route(wp).Targets[0] != "10.0.0.1:8080" {
		t.Fatal("an older snapshot changed after a swap")
	}
	tab.Apply(store.Batch{Revision: 5, Events: put(5, east)})
	if r := tab.View().Route(wp); len(r.Targets) != 1 {
		t.Fatalf("after re-adding: %v", r.Targets)
	}
	// A snapshot batch replaces everything: the service is gone.
	tab.Apply(store.Batch{Snapshot: true, Revision: 9, Events: put(9, east)})
	if r := tab.View().Route(wp); r != nil || tab.Revision() != 9 {
		t.Fatalf("after a snapshot without the service: route %v, revision %d", r, tab.Revision())
	}
	tab.Apply(store.Batch{Revision: 10, Events: []store.Event{{Type: store.EventDelete, Key: east.Key(), Revision: 10}}})
	if tab.Revision() != 10 {
		t.Fatalf("revision %d, want 10", tab.Revision())
	}
}

func TestAdminEndpoints(t *testing.T) {
	const wp = 20000
	tab := newTestTable(t)
	srv := httptest.NewServer(AdminHandler(tab))
	t.Cleanup(srv.Close)
	get := func(path string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		var body []byte
		buf := make([]byte, 64<<10)
		for {
			n, err := resp.Body.Read(buf)
			body = append(body, buf[:n]...)
			if err != nil {
				break
			}
		}
		return resp.StatusCode, body
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before the first snapshot = %d, want 503", code)
	}
	unready := endpoint("10.0.0.3", 8080, sameZone)
	unready.Ready = false
	tab.Apply(store.Batch{Snapshot: true, Revision: 2, Events: put(2,
		service(wp, model.ModePreferClose),
		endpoints("east", endpoint("10.0.0.1", 8080, sameZone), unready),
		endpoints("west", endpoint("10.0.0.2", 8080, otherZone), endpoint("10.0.0.9", 8080, otherNetwork)),
	)})
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz after the first snapshot = %d, want 200", code)
	}
	code, body := get("/debug/endpoints")
	if code != http.StatusOK {
		t.Fatalf("/debug/endpoints = %d", code)
	}
	var d DebugTable
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("decode /debug/endpoints: %v\n%s", err, body)
	}
	if d.Revision != 2 || len(d.Routes) != 1 {
		t.Fatalf("debug table: revision %d, %d routes", d.Revision, len(d.Routes))
	}
	r := d.Routes[0]
	// Tier 0 holds one healthy of two (health 70), tier 1 the rest.
	if !slices.Equal(r.TierPercent, []uint32{70, 30}) || len(r.Skipped) != 1 {
		t.Fatalf("tiers %v skipped %v, want [70 30] and one skipped", r.TierPercent, r.Skipped)
	}
	want := map[string]struct {
		tier    int
		healthy bool
		share   float64
	}{
		"10.0.0.1:8080": {0, true, 70},
		"10.0.0.3:8080": {0, false, 0},
		"10.0.0.2:8080": {1, true, 30},
	}
	for _, ep := range r.Endpoints {
		w, ok := want[ep.Target]
		if !ok || ep.Tier != w.tier || ep.Healthy != w.healthy || ep.Share != w.share || ep.Ejected {
			t.Errorf("endpoint %+v, want %+v", ep, w)
		}
	}
}
