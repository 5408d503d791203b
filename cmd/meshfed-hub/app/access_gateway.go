package app

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/meshfed/meshfed/federation/store"
)

// gatewayGrant is one namespace a shared gateway's user reads.
type gatewayGrant struct {
	gateway   store.Gateway
	namespace string
}

// servedBy are the namespaces each shared gateway serves according to ws: the records that
// name a gateway.
func servedBy(ws publishedWaypoints) map[store.Gateway]map[string]bool {
	out := map[store.Gateway]map[string]bool{}
	for k, rec := range ws {
		if rec.Gateway == "" {
			continue
		}
		gw := store.Gateway{Namespace: rec.Gateway, Cluster: k.Cluster}
		if out[gw] == nil {
			out[gw] = map[string]bool{}
		}
		out[gw][k.Namespace] = true
	}
	return out
}

// syncGateways makes each shared gateway's user read the namespaces ws says it serves, plus
// those whose record has been gone for less than u.grace; it re-grants a user whose set
// changed and deletes one that keeps no namespace. Roles of namespaces no user holds any
// longer are deleted. A failure is logged and retried at the next pass.
func (u *waypointUsers) syncGateways(ctx context.Context, ws publishedWaypoints, now time.Time) {
	served := servedBy(ws)
	gateways := map[store.Gateway]bool{}
	for gw := range served {
		gateways[gw] = true
	}
	for gw := range u.granted {
		gateways[gw] = true
	}
	for gw := range gateways {
		want := maps.Clone(served[gw])
		if want == nil {
			want = map[string]bool{}
		}
		for _, ns := range u.granted[gw] {
			g := gatewayGrant{gw, ns}
			if want[ns] {
				delete(u.grantGoneSince, g)
				continue
			}
			since, seen := u.grantGoneSince[g]
			if !seen {
				since, u.grantGoneSince[g] = now, now
			}
			if now.Sub(since) < u.grace {
				want[ns] = true
			}
		}
		u.regrant(ctx, ws, gw, slices.Sorted(maps.Keys(want)))
	}
}

// regrant gives gw's user exactly namespaces and its record (deleting it when there are no
// namespaces) unless this hub did so already, then deletes the roles of the namespaces it
// lost that no user holds.
func (u *waypointUsers) regrant(ctx context.Context, ws publishedWaypoints, gw store.Gateway, namespaces []string) {
	held, known := u.granted[gw]
	if known && slices.Equal(held, namespaces) && (len(namespaces) == 0 || u.ensured[gw]) {
		return
	}
	user := store.GatewayUser(gw.Namespace, gw.Cluster)
	if len(namespaces) == 0 {
		if err := u.root.DeleteGatewayUser(ctx, gw.Namespace, gw.Cluster); err != nil {
			u.log.Warn("cannot delete the user of a removed gateway; retrying", "user", user, "error", err)
			return
		}
		delete(u.granted, gw)
		delete(u.ensured, gw)
		u.log.Info("deleted the user of a removed gateway", "user", user)
	} else {
		if err := u.root.EnsureGatewayUser(ctx, gw.Namespace, gw.Cluster, namespaces); err != nil {
			u.log.Warn("cannot grant the gateway user its namespaces; retrying", "user", user, "namespaces", namespaces, "error", err)
			return
		}
		u.granted[gw], u.ensured[gw] = namespaces, true
		u.log.Info("gateway user ready", "user", user, "namespaces", namespaces)
	}
	for _, ns := range held {
		if !slices.Contains(namespaces, ns) {
			delete(u.grantGoneSince, gatewayGrant{gw, ns})
			u.dropRole(ctx, ws, ns)
		}
	}
}
