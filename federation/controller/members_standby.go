package controller

import (
	"context"
	"fmt"

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
