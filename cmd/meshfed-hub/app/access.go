package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/meshfed/meshfed/federation/store"
)

// provisionRetry is how long provisionWaypointUsers waits before retrying a user it failed to
// create.
const provisionRetry = 5 * time.Second

// provisionWaypointUsers gives every waypoint the store publishes (a waypoints record of a
// namespace in a cluster) its etcd user, meshfed-waypoint:<ns>:<cluster> with the namespace's
// read-only role, as root, until ctx ends. Users are only added: a waypoint whose Service
// disappears for a moment keeps reading.
func provisionWaypointUsers(ctx context.Context, st, root *store.Client, log *slog.Logger) {
	w, err := st.Watch(ctx, store.NamespacesPrefix, 0)
	if err != nil {
		log.Error("cannot watch the store for waypoints; waypoint users are not provisioned", "error", err)
		return
	}
	done := map[store.Key]bool{}
	var pending []store.Key
	retry := time.NewTimer(provisionRetry)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case b, ok := <-w.Batches():
			if !ok {
				return
			}
			for _, ev := range b.Events {
				if ev.Type == store.EventPut && ev.Err == nil && ev.Key.Kind == store.KindWaypoints && !done[ev.Key] {
					pending = append(pending, ev.Key)
				}
			}
		case <-retry.C:
		}
		pending = ensureUsers(ctx, root, pending, done, log)
		retry.Reset(provisionRetry)
	}
}

// ensureUsers creates the users of keys, records those created in done, and returns those that
// failed.
func ensureUsers(ctx context.Context, root *store.Client, keys []store.Key, done map[store.Key]bool, log *slog.Logger) []store.Key {
	var failed []store.Key
	for _, k := range keys {
		if done[k] {
			continue
		}
		if err := root.EnsureWaypointUser(ctx, k.Namespace, k.Cluster); err != nil {
			log.Warn("cannot create waypoint user; retrying", "user", store.WaypointUser(k.Namespace, k.Cluster), "error", err)
			failed = append(failed, k)
			continue
		}
		done[k] = true
		log.Info("waypoint user ready", "user", store.WaypointUser(k.Namespace, k.Cluster))
	}
	return failed
}
