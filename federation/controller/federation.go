package controller

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/federation/store"
)

// FederationOptions configure the federation loop.
type FederationOptions struct {
	// Ports is the waypoint port range.
	Ports PortRange
	// Debounce gathers a burst of member events into one pass.
	Debounce time.Duration
	// Resync is the longest time between two passes, events or not.
	Resync time.Duration
}

// Federation merges every member's exports and publishes them: store records, and GlobalService
// objects on the hub. It runs only on the leader, and every store write is fenced by the
// writer's etcd leadership.
type Federation struct {
	hub     client.Client
	members *Members
	store   *store.Client
	writer  *store.Writer
	opts    FederationOptions
	log     *slog.Logger
	wake    chan struct{}
	now     func() time.Time
	// namespaces are the hub namespaces known to exist; only the loop's goroutine uses it.
	namespaces map[string]bool
	// reported are the member problems already recorded as Events; only the loop uses it.
	reported map[problemKey]bool
}

// NewFederation returns the loop; Trigger wakes it.
func NewFederation(hub client.Client, st *store.Client, w *store.Writer, opts FederationOptions, log *slog.Logger) *Federation {
	return &Federation{hub: hub, store: st, writer: w, opts: opts, log: log, wake: make(chan struct{}, 1), now: time.Now, namespaces: map[string]bool{}, reported: map[problemKey]bool{}}
}

// SetMembers connects the loop to the member registry (they reference each other).
func (f *Federation) SetMembers(m *Members) { f.members = m }

// Trigger asks for a pass; it never blocks.
func (f *Federation) Trigger() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// NeedLeaderElection makes the manager run the loop on the leader only.
func (f *Federation) NeedLeaderElection() bool { return true }

// Start campaigns for store leadership, then runs passes until ctx ends. A failed pass is
// logged and retried with backoff; it never stops the loop.
func (f *Federation) Start(ctx context.Context) error {
	if err := f.writer.Campaign(ctx); err != nil {
		return fmt.Errorf("failed to become store leader: %w", err)
	}
	f.log.Info("store leadership acquired")
	backoff := time.Duration(0)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-f.writer.Done():
			return fmt.Errorf("lost store leadership")
		case <-f.wake:
			time.Sleep(f.opts.Debounce)
		case <-timer.C:
		}
		if err := f.SyncOnce(ctx); err != nil {
			backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
			f.log.Error("federation pass failed", "error", err, "retryIn", backoff)
			timer.Reset(backoff)
			continue
		}
		backoff = 0
		timer.Reset(f.opts.Resync)
	}
}
