package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestFencing: the leader writes; it is deposed (its lease revoked behind its back, or it
// resigns); another writer takes over; every write of the old leader then fails with
// ErrNotLeader and never lands.
func TestFencing(t *testing.T) {
	tests := []struct {
		name   string
		depose func(t *testing.T, admin *Client, old *Writer)
	}{
		{"lease revoked", func(t *testing.T, admin *Client, old *Writer) {
			// The old writer is not told: it still holds its fence and believes it leads.
			if _, err := admin.etcd.Revoke(t.Context(), old.session.Lease()); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if f, _, err := old.currentFence(); err != nil || f.key == "" {
				t.Fatalf("the old writer already dropped its fence (%v): the test would not show etcd's enforcement", err)
			}
		}},
		{"resigned", func(t *testing.T, _ *Client, old *Writer) {
			if err := old.Resign(t.Context()); err != nil {
				t.Fatalf("Resign: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := startTestEtcd(t)
			ctx := t.Context()
			admin := te.connect(t)
			a := te.leader(t, "hub-a")
			first := endpointsRecord("shop", "cart", "east", 2)
			if _, err := a.Put(ctx, first); err != nil {
				t.Fatalf("leader Put: %v", err)
			}
			b := NewWriter(te.connect(t), WriterOptions{Identity: "hub-b", SessionTTL: 5, Logger: testLogger})
			won := campaignAsync(ctx, b)
			assertNotWon(t, won, 300*time.Millisecond)

			tt.depose(t, admin, a)
			assertWon(t, won, 10*time.Second)

			stale := endpointsRecord("shop", "cart", "east", 3)
			if _, err := a.Put(ctx, stale); !errors.Is(err, ErrNotLeader) {
				t.Fatalf("deposed Put = %v, want ErrNotLeader", err)
			}
			if _, err := a.Delete(ctx, first.Key()); !errors.Is(err, ErrNotLeader) {
				t.Fatalf("deposed Delete = %v, want ErrNotLeader", err)
			}
			if _, err := a.Sync(ctx, SelectClusterEndpoints("east"), nil); !errors.Is(err, ErrNotLeader) {
				t.Fatalf("deposed Sync = %v, want ErrNotLeader", err)
			}
			got, found, err := admin.Get(ctx, first.Key())
			if err != nil || !found || !reflect.DeepEqual(got.Record, first) {
				t.Fatalf("after deposed writes the key holds %+v (found %v, %v), want the leader's first value", got.Record, found, err)
			}
			if _, err := b.Put(ctx, stale); err != nil {
				t.Fatalf("new leader Put: %v", err)
			}
			select {
			case <-a.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the deposed writer's Done did not close")
			}
		})
	}
}

func campaignAsync(ctx context.Context, w *Writer) <-chan error {
	won := make(chan error, 1)
	go func() { won <- w.Campaign(ctx) }()
	return won
}

func assertNotWon(t *testing.T, won <-chan error, d time.Duration) {
	t.Helper()
	select {
	case err := <-won:
		t.Fatalf("second writer won while the first leads: %v", err)
	case <-time.After(d):
	}
}

func assertWon(t *testing.T, won <-chan error, d time.Duration) {
	t.Helper()
	select {
	case err := <-won:
		if err != nil {
			t.Fatalf("Campaign: %v", err)
		}
	case <-time.After(d):
		t.Fatal("second writer did not take over")
	}
}

// TestCommitTellsConflictFromLostLeadership: a batch whose key changed since it was read is a
// conflict (Sync reads again), a batch under a stale fence is ErrNotLeader; neither writes.
func TestCommitTellsConflictFromLostLeadership(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	rec := serviceRecord("shop", "cart")
	put(t, w, rec)
	key, val, err := Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := w.currentFence()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		fence fence
		batch []change
		want  error
	}{
		{"key changed since read", f, []change{{key: key, val: val, modRev: 1}}, errConflict},
		{"key created since read", f, []change{{key: key, val: val, modRev: 0}}, errConflict},
		{"stale fence", fence{key: f.key, rev: f.rev - 1}, []change{{key: key}}, ErrNotLeader},
		{"foreign fence", fence{key: LeaderPrefix + "/dead", rev: f.rev}, []change{{key: key}}, ErrNotLeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := mustRevision(t, w.client)
			if _, err := w.commit(t.Context(), tt.fence, tt.batch); !errors.Is(err, tt.want) {
				t.Fatalf("commit = %v, want %v", err, tt.want)
			}
			if after := mustRevision(t, w.client); after != before {
				t.Fatalf("a refused commit wrote (revision %d -> %d)", before, after)
			}
		})
	}
}
