package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/event"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
)

// A standby replica of the hub runs the member registry too: it connects to every member and
// keeps their caches, so that it can publish the members' changes the moment it takes over
// instead of connecting to all of them first. Until Lead it writes nothing to the hub cluster
// (MemberCluster status is the leader's; a standby's view of a member may differ) and records
// no change for the propagation histogram (the leader writes those changes).

// Lead ends the standby: from now on the registry writes MemberCluster status and records
// changes, and every MemberCluster is reconciled again so that its status is written. The
// requeueing goes on in the background until it is done or ctx ends.
func (m *Members) Lead(ctx context.Context) error {
	m.standby.Store(false)
	var list meshfedv1.MemberClusterList
	if err := m.hub.List(ctx, &list); err != nil {
		return fmt.Errorf("failed to list memberclusters: %w", err)
	}
	go func() {
		for i := range list.Items {
			select {
			case m.requeue <- event.GenericEvent{Object: &list.Items[i]}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return nil
}

// Standby makes the registry a standby's again: when a replica stops leading, it stops
// writing before its Lease is released.
func (m *Members) Standby() { m.standby.Store(true) }

// errNotWarm reports a registry that has not yet tried to connect to every member.
var errNotWarm = errors.New("not yet tried to connect to every member")

// Warm returns nil once every MemberCluster of the hub has been reconciled at least once:
// connected, or found unreachable or misconfigured (a member that stays down must not hold a
// replica unready). The hub's readiness waits for it, so that a rolling update stops the
// leader only once its successor has its members connected.
func (m *Members) Warm(ctx context.Context) error {
	var list meshfedv1.MemberClusterList
	if err := m.hub.List(ctx, &list); err != nil {
		return fmt.Errorf("failed to list memberclusters: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var waiting []string
	for _, mc := range list.Items {
		if !m.tried[mc.Name] {
			waiting = append(waiting, mc.Name)
		}
	}
	if len(waiting) > 0 {
		return fmt.Errorf("%w: waiting for %s", errNotWarm, strings.Join(waiting, ", "))
	}
	return nil
}

// markTried notes that the MemberCluster name has been reconciled once.
func (m *Members) markTried(name string) {
	m.mu.Lock()
	m.tried[name] = true
	m.mu.Unlock()
}
