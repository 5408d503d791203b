package waypoint

import (
	"encoding/json"
	"net/http"

	"github.com/meshfed/meshfed/waypoint/table"
)

// AdminHandler serves the waypoint's admin endpoints:
//
//	/healthz          200 while the process serves
//	/readyz           200 once the first snapshot from the store has been applied, else 503
//	/debug/endpoints  the endpoint table as JSON (table.DebugTable)
func AdminHandler(t *table.Table) http.Handler {
	return adminHandler(t, func() string {
		if !t.Ready() {
			return "endpoint table not synced with the store yet"
		}
		return ""
	})
}

// adminHandler is AdminHandler with /readyz answering 503 and the reason whenever notReady
// returns one.
func adminHandler(t *table.Table, notReady func() string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if why := notReady(); why != "" {
			http.Error(w, why, http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /debug/endpoints", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(t.Debug())
	})
	return mux
}
