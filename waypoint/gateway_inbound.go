package waypoint

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/meshfed/meshfed/hbone"
)

// gatewayDispatch is the handler of a shared gateway's HBONE server: it hands each tunnel to
// the policy of the namespace whose table holds the target as a local endpoint, which
// authorizes the caller and the target as a waypoint of that namespace would, and opens it.
type gatewayDispatch struct {
	namespaces []*namespaceInbound // sorted by namespace
	log        *slog.Logger
}

// Connect implements hbone.Handler.
func (d *gatewayDispatch) Connect(ctx context.Context, req *hbone.Request) (net.Conn, error) {
	p, err := d.route(req)
	if err != nil {
		return nil, err
	}
	return p.open(ctx, req)
}

// route returns the policy of the namespace that lets req through: the first, by name, whose
// table holds the target and whose policy authorizes the tunnel (a target in several
// namespaces' tables is a store in transition; a namespace that refuses does not hide one
// that admits). Else the refusal of the first namespace that holds the target; else 503
// table-not-synced while a table has not synced (the target may be there), and 403
// target-not-served when no namespace served holds it.
func (d *gatewayDispatch) route(req *hbone.Request) (*namespaceInbound, error) {
	var refused error
	unsynced := ""
	for _, p := range d.namespaces {
		if !p.table.Ready() {
			if unsynced == "" {
				unsynced = p.namespace
			}
			continue
		}
		if !p.table.View().Holds(req.Target) {
			continue
		}
		err := p.authorize(req)
		if err == nil {
			return p, nil
		}
		if refused == nil {
			refused = err
		}
	}
	switch {
	case refused != nil:
		return nil, refused
	case unsynced != "":
		return nil, hbone.Unavailable(ReasonNotSynced, fmt.Errorf("endpoint table of namespace %s not synced with the store yet", unsynced))
	}
	d.log.Warn("denied HBONE target of no namespace served", "caller", req.Caller.String(), "callerCluster", req.CallerCluster, "remote", req.RemoteAddr, "target", req.Target.String())
	return nil, hbone.Deny(ReasonTargetNotServed)
}
