package membership

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// ErrDuplicateCluster is returned by a join of a cluster that the hub already has under
// another name: one cluster is federated once.
var ErrDuplicateCluster = errors.New("one cluster is joined once")

// ErrChangeRefused is returned by a join that would move an existing member to another
// network or segment, or point its name at another cluster, without Options.Force.
var ErrChangeRefused = errors.New("moving a member takes --force")

// Change is one field a join changes on an existing MemberCluster.
type Change struct {
	Field    string // "network", "segment" or "cluster ID"
	From, To string
}

func (c Change) String() string { return fmt.Sprintf("%s %s -> %s", c.Field, c.From, c.To) }

// ClusterID reads a cluster's ID: the UID of its kube-system Namespace.
func ClusterID(ctx context.Context, c client.Client, side string) (string, error) {
	var ns corev1.Namespace
	if err := c.Get(ctx, client.ObjectKey{Name: wellknown.ClusterIDNamespace}, &ns); err != nil {
		return "", fmt.Errorf("failed to read the cluster ID (namespace %s UID) of %s: %w", wellknown.ClusterIDNamespace, side, err)
	}
	return string(ns.UID), nil
}

// clusterIDOf is the cluster ID the hub knows for mc: the one it probed, else the one join
// recorded.
func clusterIDOf(mc *meshfedv1.MemberCluster) string {
	return cmp.Or(mc.Status.ClusterID, mc.Annotations[wellknown.ClusterIDAnnotation])
}

// DuplicateOf returns the name of the member other than name that has clusterID, by its
// probed status.clusterID or the ID its join recorded; "" when there is none.
func DuplicateOf(members []meshfedv1.MemberCluster, name, clusterID string) string {
	for i := range members {
		mc := &members[i]
		if mc.Name == name || clusterID == "" {
			continue
		}
		if mc.Status.ClusterID == clusterID || mc.Annotations[wellknown.ClusterIDAnnotation] == clusterID {
			return mc.Name
		}
	}
	return ""
}

// Changes lists what joining o would change on the existing MemberCluster cur: its network,
// its segment, and the cluster its name stands for. A region is a default for Nodes without
// one and changes freely.
func Changes(cur *meshfedv1.MemberCluster, o Options) []Change {
	var out []Change
	if cur.Spec.Network != o.Network {
		out = append(out, Change{"network", cur.Spec.Network, o.Network})
	}
	from, to := cmp.Or(cur.Spec.Segment, wellknown.DefaultSegment), cmp.Or(o.Segment, wellknown.DefaultSegment)
	if from != to {
		out = append(out, Change{"segment", from, to})
	}
	if id := clusterIDOf(cur); id != "" && o.ClusterID != "" && id != o.ClusterID {
		out = append(out, Change{"cluster ID", id, o.ClusterID})
	}
	return out
}

// preflight checks on the hub, before anything is written, that o joins a cluster the hub does
// not have under another name, and what it changes on an existing member: refused unless
// o.Force. It returns the changes to report.
func preflight(ctx context.Context, hub client.Client, o Options) ([]Change, error) {
	var list meshfedv1.MemberClusterList
	if err := hub.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("failed to list memberclusters on the hub: %w", err)
	}
	if dup := DuplicateOf(list.Items, o.Name, o.ClusterID); dup != "" {
		return nil, fmt.Errorf("failed to join %s: the member cluster (ID %s) is already member %s; unjoin %s first, or join it as %s; nothing was changed: %w",
			o.Name, o.ClusterID, dup, dup, dup, ErrDuplicateCluster)
	}
	var cur meshfedv1.MemberCluster
	switch err := hub.Get(ctx, client.ObjectKey{Name: o.Name}, &cur); {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("failed to read membercluster %s on the hub: %w", o.Name, err)
	}
	changes := Changes(&cur, o)
	if len(changes) > 0 && !o.Force {
		return nil, fmt.Errorf("failed to join %s: it would change %s; nothing was changed: %w", o.Name, joinChanges(changes), ErrChangeRefused)
	}
	return changes, nil
}

func joinChanges(cs []Change) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.String()
	}
	return strings.Join(s, ", ")
}
