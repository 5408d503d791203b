package waypoint

import (
	"encoding/json"
	"net/http"
)

// AdminHandler serves the waypoint's admin endpoints:
//
//	/healthz          200 while the process serves
//	/readyz           200 once the first snapshot from the store has been applied, else 503
//	/debug/endpoints  the endpoint table as JSON (DebugTable)
func AdminHandler(t *Table) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !t.Ready() {
			http.Error(w, "endpoint table not synced with the store yet", http.StatusServiceUnavailable)
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
