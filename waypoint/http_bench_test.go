package waypoint

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// BenchmarkHTTPRequest measures one GET through a per-request route (keep-alive on both
// sides, two endpoints, no store: the table is fed directly) against the same GET sent to an
// endpoint directly. It reports what the waypoint adds per request.
func BenchmarkHTTPRequest(b *testing.B) {
	backends := make([]string, 2)
	for i := range backends {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })}
		go func() { _ = srv.Serve(l) }()
		b.Cleanup(func() { _ = srv.Close() })
		backends[i] = l.Addr().String()
	}
	port := int32(freePort(b))
	opts := Options{Namespace: "shop", Cluster: "east", Locality: self, ListenHost: "127.0.0.1", Seed: 1, Logger: testLogger, AllowLoopbackEndpoints: true}
	tab := NewTable(opts)
	eps := make([]model.Endpoint, 0, len(backends))
	for _, addr := range backends {
		host, p, _ := net.SplitHostPort(addr)
		ep := endpoint(host, int32(must(strconv.Atoi(p))), sameZone)
		ep.Ports[0].Name = "http"
		eps = append(eps, ep)
	}
	tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: put(1, httpService(port, model.ModeAny, "http", ""), endpoints("east", eps...))})
	out := NewOutbound(tab, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = out.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(waitTimeout)
	for !slices.Contains(out.Ports(), port) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	b.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}
	run := func(b *testing.B, url string) {
		for b.Loop() {
			req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
			resp, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	}
	b.Run("direct", func(b *testing.B) { run(b, "http://"+backends[0]+"/") })
	b.Run("waypoint", func(b *testing.B) { run(b, "http://127.0.0.1:"+itoa(port)+"/") })
}

func must(n int, err error) int {
	if err != nil {
		panic(err)
	}
	return n
}
