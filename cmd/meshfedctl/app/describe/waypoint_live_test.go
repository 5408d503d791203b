package describe_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint"
)

// TestDescribeLiveWaypoint runs a real waypoint of east-1 on the fixture's store and reads its
// routing of shop/web through --waypoint.
func TestDescribeLiveWaypoint(t *testing.T) {
	e := startEnv(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := waypoint.New(waypoint.Options{
		Namespace: "shop", Cluster: "east-1", ListenHost: "127.0.0.1", Logger: log,
		Locality: model.Locality{Network: "net-a", Region: "us-east", Zone: "us-east-1a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Connect(t.Context(), store.ClientConfig{Endpoints: []string{e.etcd}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, st) }()
	t.Cleanup(func() { cancel(); <-done })
	admin := httptest.NewServer(w.Admin())
	t.Cleanup(admin.Close)
	deadline := time.Now().Add(30 * time.Second)
	for !w.Table().Ready() {
		if time.Now().After(deadline) {
			t.Fatal("the waypoint never applied the store")
		}
		time.Sleep(50 * time.Millisecond)
	}

	out := mustDescribe(t, e, "shop/web", "--waypoint", admin.URL)
	t.Log(out)
	for _, want := range []string{"Waypoint " + admin.URL + ":", "Ready:           yes", "Port http 80 → waypoint port 20000", "Tier 0: load", "east-1", "direct"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := e.describe(t, "shop/web", "--waypoint", "http://127.0.0.1:1"); err == nil {
		t.Error("an unreachable waypoint is not an error")
	}
}
