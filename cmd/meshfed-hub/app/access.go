package app

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/meshfed/meshfed/federation/store"
)

// provisionRetry is the longest time between two passes over the waypoint users: a user that
// failed to be created or deleted is retried then.
const provisionRetry = 5 * time.Second

// publishedWaypoints are the waypoints records of the store (a namespace's waypoints in one
// cluster), kept from a watch of store.NamespacesPrefix.
type publishedWaypoints map[store.Key]*store.WaypointsRecord

// apply applies a watch batch: a snapshot replaces everything; a put that did not decode
// counts as absent.
func (ws publishedWaypoints) apply(b store.Batch) {
	if b.Snapshot {
		clear(ws)
	}
	for _, ev := range b.Events {
		if ev.Key.Kind != store.KindWaypoints {
			continue
		}
		rec, ok := ev.Record.(*store.WaypointsRecord)
		if ev.Type == store.EventPut && ev.Err == nil && ok {
			ws[ev.Key] = rec
		} else {
			delete(ws, ev.Key)
		}
	}
}

// followWaypoints calls sync with the store's waypoints after each batch of a watch of st
// (the first is the complete state), and every interval, until ctx ends.
func followWaypoints(ctx context.Context, st *store.Client, interval time.Duration, log *slog.Logger, sync func(publishedWaypoints, time.Time)) {
	w, err := st.Watch(ctx, store.NamespacesPrefix, 0)
	if err != nil {
		log.Error("cannot watch the store for waypoints", "error", err)
		return
	}
	ws := publishedWaypoints{}
	synced := false
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case b, ok := <-w.Batches():
			if !ok {
				return
			}
			ws.apply(b)
			synced = true
		case <-tick.C:
		}
		if synced {
			sync(ws, time.Now())
		}
	}
}

// waypointUsers keeps one etcd user per published waypoint: meshfed-waypoint:<ns>:<cluster>,
// with the namespace's read-only role; and one per shared gateway (a gateway namespace in a
// cluster, named by the records of the namespaces it serves): meshfed-gateway:<gwns>:<cluster>,
// with the roles of exactly those namespaces and its own role, which reads the gateway's
// record (store.GatewayRole). A user whose waypoints record has been gone for
// grace is deleted (a waypoint whose Service disappears for a moment keeps reading); so is a
// gateway's grant of a namespace whose record has been gone for grace, and the gateway's user
// with its last grant. A namespace's role goes when no user of either kind holds it.
type waypointUsers struct {
	root  *store.Client
	grace time.Duration
	log   *slog.Logger
	// exist are the users known to exist; goneSince when each user's record was first seen
	// missing.
	exist     map[store.Key]bool
	goneSince map[store.Key]time.Time
	// granted are the namespaces each gateway's user is known to read (sorted);
	// grantGoneSince when the record of each granted namespace was first seen missing.
	granted        map[store.Gateway][]string
	grantGoneSince map[gatewayGrant]time.Time
	// ensured are the gateways whose users this hub has provisioned since it started (a user
	// found at start is provisioned again once, for the grants it may lack).
	ensured map[store.Gateway]bool
}

// provisionWaypointUsers runs waypointUsers over st's waypoints, as root, until ctx ends. The
// waypoint and gateway users found in etcd at start count as existing, with the namespaces
// they read, so that those of waypoints and gateways removed while the hub was down are
// deleted too.
func provisionWaypointUsers(ctx context.Context, st, root *store.Client, grace time.Duration, log *slog.Logger) {
	u := &waypointUsers{
		root: root, grace: grace, log: log, exist: map[store.Key]bool{}, goneSince: map[store.Key]time.Time{},
		granted: map[store.Gateway][]string{}, grantGoneSince: map[gatewayGrant]time.Time{}, ensured: map[store.Gateway]bool{},
	}
	if keys, err := root.WaypointUsers(ctx); err != nil {
		log.Warn("cannot list the waypoint users; users of removed waypoints are deleted only if they were created since", "error", err)
	} else {
		for _, k := range keys {
			u.exist[k] = true
		}
	}
	if gws, err := root.GatewayUsers(ctx); err != nil {
		log.Warn("cannot list the gateway users; users of removed gateways are deleted only if they were created since", "error", err)
	} else {
		u.granted = gws
	}
	followWaypoints(ctx, st, min(provisionRetry, max(grace/4, 50*time.Millisecond)), log, func(ws publishedWaypoints, now time.Time) {
		u.sync(ctx, ws, now)
		u.syncGateways(ctx, ws, now)
	})
}

// sync creates the users of the namespaces' own waypoints in ws that do not exist yet and
// deletes those gone for u.grace. A record of a namespace a shared gateway serves is the
// gateway's (syncGateways), not a waypoint of the namespace.
func (u *waypointUsers) sync(ctx context.Context, ws publishedWaypoints, now time.Time) {
	for k, rec := range ws {
		if rec.Gateway != "" {
			continue
		}
		delete(u.goneSince, k)
		if u.exist[k] {
			continue
		}
		if err := u.root.EnsureWaypointUser(ctx, k.Namespace, k.Cluster); err != nil {
			u.log.Warn("cannot create waypoint user; retrying", "user", store.WaypointUser(k.Namespace, k.Cluster), "error", err)
			continue
		}
		u.exist[k] = true
		u.log.Info("waypoint user ready", "user", store.WaypointUser(k.Namespace, k.Cluster))
	}
	for k := range u.exist {
		if rec := ws[k]; rec != nil && rec.Gateway == "" {
			continue
		}
		since, seen := u.goneSince[k]
		if !seen {
			u.goneSince[k] = now
			continue
		}
		if now.Sub(since) < u.grace {
			continue
		}
		u.remove(ctx, ws, k)
	}
}

// remove deletes the user of k and, when no waypoint of its namespace is left, the
// namespace's role.
func (u *waypointUsers) remove(ctx context.Context, ws publishedWaypoints, k store.Key) {
	user := store.WaypointUser(k.Namespace, k.Cluster)
	if err := u.root.DeleteWaypointUser(ctx, k.Namespace, k.Cluster); err != nil {
		u.log.Warn("cannot delete the user of a removed waypoint; retrying", "user", user, "error", err)
		return
	}
	delete(u.exist, k)
	delete(u.goneSince, k)
	u.log.Info("deleted the user of a removed waypoint", "user", user)
	u.dropRole(ctx, ws, k.Namespace)
}

// dropRole deletes the ReaderRole of ns unless a waypoint or gateway user holds it or a
// record of ns is published (its user is about to hold it).
func (u *waypointUsers) dropRole(ctx context.Context, ws publishedWaypoints, ns string) {
	for other := range u.exist {
		if other.Namespace == ns {
			return
		}
	}
	for other := range ws {
		if other.Namespace == ns {
			return
		}
	}
	for _, namespaces := range u.granted {
		if slices.Contains(namespaces, ns) {
			return
		}
	}
	if err := u.root.DeleteReaderRole(ctx, ns); err != nil {
		u.log.Warn("cannot delete the role of a namespace without waypoints", "role", store.ReaderRole(ns), "error", err)
	}
}
