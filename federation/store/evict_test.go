package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestEvict: a writer campaigning behind a leader evicts it by identity; the evicted leader's
// writes are refused by etcd although it still holds its fence, and its Done closes. A writer
// that gone does not name is left alone, and a writer never evicts itself.
func TestEvict(t *testing.T) {
	te := startTestEtcd(t)
	ctx := t.Context()
	admin := te.connect(t)
	a := te.leader(t, "hub-a_1")
	first := endpointsRecord("shop", "cart", "east", 2)
	if _, err := a.Put(ctx, first); err != nil {
		t.Fatalf("leader Put: %v", err)
	}
	b := NewWriter(te.connect(t), WriterOptions{Identity: "hub-b_2", SessionTTL: 60, Logger: testLogger})

	if got, err := b.Evict(ctx, func(id string) bool { return id == "hub-z_9" }); err != nil || len(got) != 0 {
		t.Fatalf("Evict of an unknown identity = %v, %v; want nothing evicted", got, err)
	}
	if got, err := a.Evict(ctx, func(string) bool { return true }); err != nil || len(got) != 0 {
		t.Fatalf("the leader evicting everyone = %v, %v; want itself spared", got, err)
	}
	won := campaignAsync(ctx, b)
	assertNotWon(t, won, 300*time.Millisecond)

	got, err := b.Evict(ctx, func(id string) bool { return id == "hub-a_1" })
	if err != nil || !slices.Equal(got, []string{"hub-a_1"}) {
		t.Fatalf("Evict = %v, %v; want [hub-a_1]", got, err)
	}
	// a's session is alive (its client keeps renewing it): b can only win by the eviction.
	assertWon(t, won, 10*time.Second)
	if f, _, err := a.currentFence(); err != nil || f.key == "" {
		t.Fatalf("the evicted writer dropped its fence by itself (%v): the test would not show etcd's refusal", err)
	}
	if _, err := a.Put(ctx, endpointsRecord("shop", "cart", "east", 3)); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("evicted Put = %v, want ErrNotLeader", err)
	}
	if e, found, err := admin.Get(ctx, first.Key()); err != nil || !found || len(e.Record.(*EndpointsRecord).Endpoints) != 2 {
		t.Fatalf("after the evicted Put the key holds %+v (found %v, %v), want the leader's first value", e.Record, found, err)
	}
	select {
	case <-a.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the evicted writer's Done did not close")
	}
}

// TestEvictAfterStoreRestart is the embedded store's case: a writer dies without resigning and
// etcd restarts on the same data. Its leader key survives the restart, and etcd counts its
// lease's whole TTL again from the restart, so a successor would wait that long; evicting it
// lets the successor lead at once.
func TestEvictAfterStoreRestart(t *testing.T) {
	te := startTestEtcd(t)
	old := NewWriter(te.connect(t), WriterOptions{Identity: "hub-0_old", SessionTTL: 60, Logger: testLogger})
	if err := old.Campaign(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The old process dies: its connection closes without revoking anything.
	if err := old.client.Close(); err != nil {
		t.Fatal(err)
	}
	te.stop()
	te.start(t)

	next := NewWriter(te.connect(t), WriterOptions{Identity: "hub-0_new", SessionTTL: 60, Logger: testLogger})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := next.Campaign(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Campaign behind the dead writer's key = %v; want it still held after the restart", err)
	}
	got, err := next.Evict(t.Context(), func(string) bool { return true })
	if err != nil || !slices.Equal(got, []string{"hub-0_old"}) {
		t.Fatalf("Evict = %v, %v; want [hub-0_old]", got, err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := next.Campaign(ctx); err != nil {
		t.Fatalf("Campaign after Evict (TTL 60 s) = %v", err)
	}
}
