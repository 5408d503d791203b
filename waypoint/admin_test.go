package waypoint

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint/table"
)

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
	// A waypoint answers for its own namespace by name, as a shared gateway does, and for no other.
	if code, named := get("/debug/endpoints?namespace=shop"); code != http.StatusOK || string(named) != string(body) {
		t.Fatalf("/debug/endpoints?namespace=shop = %d, want 200 and the same table", code)
	}
	if code, _ := get("/debug/endpoints?namespace=bank"); code != http.StatusNotFound {
		t.Fatalf("/debug/endpoints?namespace=bank = %d, want 404", code)
	}
	var d table.DebugTable
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
