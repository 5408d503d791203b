package store

import (
	"context"
	"testing"
	"time"
)

// TestConnectAwaitingAccess starts a waypoint before its user exists: it keeps retrying instead
// of failing, connects once root creates the user, and then reads its namespace.
func TestConnectAwaitingAccess(t *testing.T) {
	e := startAuthEtcd(t)
	cfg := e.pki.client(t, WaypointUser("late", "east"))
	cfg.Endpoints, cfg.Scope, cfg.DialTimeout, cfg.Logger = e.endpoints, NamespacePrefix("late"), 3*time.Second, testLogger
	type result struct {
		c   *Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ConnectAwaitingAccess(t.Context(), cfg, 100*time.Millisecond, 400*time.Millisecond)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("ConnectAwaitingAccess returned (%v) before the user existed", r.err)
	case <-time.After(2 * time.Second):
	}
	if err := e.root.EnsureWaypointUser(t.Context(), "late", "east"); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("ConnectAwaitingAccess did not connect after the user was created")
	}
	if r.err != nil {
		t.Fatalf("ConnectAwaitingAccess: %v", r.err)
	}
	t.Cleanup(func() { _ = r.c.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	w, err := r.c.Watch(ctx, NamespacePrefix("late"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if b := <-w.Batches(); !b.Snapshot || len(b.Events) != 0 {
		t.Fatalf("watch of an empty namespace = %+v, want an empty snapshot", b)
	}

	t.Run("other errors are returned at once", func(t *testing.T) {
		bad := cfg
		bad.CAFile = ""
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if _, err := ConnectAwaitingAccess(ctx, bad, time.Hour, time.Hour); err == nil || IsPermissionDenied(err) || ctx.Err() != nil {
			t.Fatalf("ConnectAwaitingAccess without the CA = %v, want a TLS failure before the deadline", err)
		}
	})
	t.Run("the end of ctx stops the retries", func(t *testing.T) {
		stranger := e.pki.client(t, WaypointUser("nobody", "east"))
		stranger.Endpoints, stranger.Scope, stranger.DialTimeout, stranger.Logger = e.endpoints, NamespacePrefix("nobody"), 3*time.Second, testLogger
		// Long enough for a first refusal on a loaded machine (a TLS dial and a read).
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if _, err := ConnectAwaitingAccess(ctx, stranger, 100*time.Millisecond, 200*time.Millisecond); err == nil || !IsPermissionDenied(err) {
			t.Fatalf("ConnectAwaitingAccess for a user that never comes = %v, want the end of ctx with the refusal", err)
		}
	})
}
