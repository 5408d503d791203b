package waypoint

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/meshfed/meshfed/waypoint/table"
)

// AdminHandler serves the waypoint's admin endpoints:
//
//	/healthz          200 while the process serves
//	/readyz           200 once the first snapshot from the store has been applied, else 503
//	/debug/endpoints  the endpoint table as JSON (table.DebugTable)
func AdminHandler(t *table.Table) http.Handler {
	return adminHandler(only(t), func() string {
		if !t.Ready() {
			return "endpoint table not synced with the store yet"
		}
		return ""
	})
}

// only is the tables of a waypoint: its one namespace's.
func only(t *table.Table) func() map[string]*table.Table {
	tables := map[string]*table.Table{t.Namespace(): t}
	return func() map[string]*table.Table { return tables }
}

// adminHandler is AdminHandler over the tables of the namespaces served now, by namespace,
// with /readyz answering 503 and the reason whenever notReady returns one. /debug/endpoints
// serves the table of the namespace its "namespace" query parameter names (404 for one not
// served), and without it the only one (400 when there are several or none).
func adminHandler(served func() map[string]*table.Table, notReady func() string) http.Handler {
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
	mux.HandleFunc("GET /debug/endpoints", func(w http.ResponseWriter, r *http.Request) {
		tables := served()
		names := slices.Sorted(maps.Keys(tables))
		ns := r.URL.Query().Get("namespace")
		t := tables[ns]
		if ns == "" && len(names) == 1 {
			t = tables[names[0]] // the table a request naming no namespace gets
		}
		switch {
		case t == nil && len(names) == 0:
			http.Error(w, "this gateway serves no namespace now", http.StatusNotFound)
			return
		case t == nil && ns == "":
			http.Error(w, fmt.Sprintf("this gateway serves several namespaces (%s): name one with ?namespace=", strings.Join(names, ", ")), http.StatusBadRequest)
			return
		case t == nil:
			http.Error(w, fmt.Sprintf("namespace %q is not served here (%s)", ns, strings.Join(names, ", ")), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(t.Debug())
	})
	return mux
}
