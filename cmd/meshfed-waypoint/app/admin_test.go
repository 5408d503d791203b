package app

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWithProfiling serves the profiles under /debug/pprof/ and everything else from the
// wrapped admin handler.
func TestWithProfiling(t *testing.T) {
	inner := http.NewServeMux()
	inner.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(withProfiling(inner))
	defer srv.Close()
	for path, want := range map[string]int{
		"/healthz":                       http.StatusTeapot,
		"/debug/pprof/":                  http.StatusOK,
		"/debug/pprof/goroutine?debug=1": http.StatusOK,
		"/debug/pprof/cmdline":           http.StatusOK,
		"/nothing":                       http.StatusNotFound,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
}
