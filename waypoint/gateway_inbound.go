package waypoint

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/meshfed/meshfed/hbone"
)

// gatewayDispatch is the handler of a shared gateway's HBONE server: it hands each tunnel to
// the policy of the namespace whose table holds the target as a local endpoint, which
// authorizes the caller and the target as a waypoint of that namespace would, and opens it.
// The namespaces change while it serves (add, remove); each tunnel sees one set.
type gatewayDispatch struct {
	log *slog.Logger

	mu         sync.Mutex // serializes add and remove
	namespaces atomic.Pointer[[]*namespaceInbound]
}

// add dispatches to p from now on, keeping the policies sorted by namespace (a namespace
// served again while its previous policy drains comes after it).
func (d *gatewayDispatch) add(p *namespaceInbound) {
	d.mu.Lock()
	defer d.mu.Unlock()
	next := append(slices.Clone(d.current()), p)
	slices.SortStableFunc(next, func(a, b *namespaceInbound) int { return strings.Compare(a.namespace, b.namespace) })
	d.namespaces.Store(&next)
}

// remove stops dispatching to p; removing nil or a policy not dispatched to does nothing.
func (d *gatewayDispatch) remove(p *namespaceInbound) {
	if p == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	cur := d.current()
	if i := slices.Index(cur, p); i >= 0 {
		next := slices.Delete(slices.Clone(cur), i, i+1)
		d.namespaces.Store(&next)
	}
}

// current are the policies dispatched to now, sorted by namespace; never modified.
func (d *gatewayDispatch) current() []*namespaceInbound {
	if p := d.namespaces.Load(); p != nil {
		return *p
	}
	return nil
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
	for _, p := range d.current() {
		if !p.table.Ready() {
			if unsynced == "" {
				unsynced = p.namespace
			}
			continue
		}
		if view := p.table.View(); !view.Holds(req.Target) && (req.Service == "" || !view.HoldsService(req.Service, req.Target.Port())) {
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
	d.log.Warn("denied HBONE target of no namespace served", "caller", req.Caller.String(), "callerCluster", req.CallerCluster, "remote", req.RemoteAddr, "target", req.Authority())
	return nil, hbone.Deny(ReasonTargetNotServed)
}
