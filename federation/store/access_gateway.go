package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Gateway names a shared gateway: its namespace in one cluster.
type Gateway struct {
	Namespace string
	Cluster   string
}

// GatewayUser is the etcd user of the shared gateway of namespace gwns in cluster: the Common
// Name of its store client certificate. It holds the ReaderRole of each namespace the gateway
// serves and its own GatewayRole, nothing else (EnsureGatewayUser). Like WaypointUser, it
// parses back unambiguously (ParseGatewayUser).
func GatewayUser(gwns, cluster string) string { return gatewayUserPrefix + gwns + ":" + cluster }

// GatewayRole is the role of the shared gateway of namespace gwns in cluster, named as its
// user (as etcd's root user holds the role root): read-only on the one key of the gateway's
// record, GatewayKey(cluster, gwns), without a range end, so that it reads neither another
// gateway's record nor the prefix it lies under. Only GatewayUser holds it; it is created and
// deleted with the user. Its name does not begin as a ReaderRole's, so no listing of reader
// roles mistakes it for one.
func GatewayRole(gwns, cluster string) string { return GatewayUser(gwns, cluster) }

// ParseGatewayUser returns the gateway namespace and cluster of a name GatewayUser made, and
// an error wrapping ErrMalformedUser for any other name.
func ParseGatewayUser(user string) (gwns, cluster string, err error) {
	return parseUser(gatewayUserPrefix, user)
}

// EnsureGatewayUser makes, as RootUser, the user of the shared gateway of gwns in cluster
// read exactly the namespaces it serves and its own record: it creates the user, each
// namespace's ReaderRole and the gateway's GatewayRole when missing, grants those roles, and
// revokes every other role the user holds (a namespace the gateway no longer serves).
// namespaces must name at least one namespace; a gateway that serves none has no user
// (DeleteGatewayUser). It is idempotent.
func (c *Client) EnsureGatewayUser(ctx context.Context, gwns, cluster string, namespaces []string) error {
	user := GatewayUser(gwns, cluster)
	if !validNamespace(gwns) || !validSegment(cluster) {
		return fmt.Errorf("failed to provision gateway user %q: not a namespace %q and a cluster %q", user, gwns, cluster)
	}
	if len(namespaces) == 0 {
		return fmt.Errorf("failed to provision gateway user %s: it serves no namespace", user)
	}
	want := map[string]bool{}
	for _, ns := range namespaces {
		if !validNamespace(ns) {
			return fmt.Errorf("failed to provision gateway user %s: %q is not a namespace name", user, ns)
		}
		want[ReaderRole(ns)] = true
	}
	if err := c.ensureUser(ctx, user); err != nil {
		return err
	}
	own := GatewayRole(gwns, cluster)
	if err := c.ensureKeyRole(ctx, own, GatewayKey(cluster, gwns).String()); err != nil {
		return err
	}
	if err := c.ensureUserRole(ctx, user, own); err != nil {
		return err
	}
	want[own] = true
	for _, role := range slices.Sorted(maps.Keys(want)) {
		if role == own {
			continue
		}
		if err := c.ensureRole(ctx, role, NamespacePrefix(strings.TrimPrefix(role, readerRolePrefix)), clientv3.PermissionType(clientv3.PermRead)); err != nil {
			return err
		}
		if err := c.ensureUserRole(ctx, user, role); err != nil {
			return err
		}
	}
	held, err := c.etcd.UserGet(ctx, user)
	if err != nil {
		return fmt.Errorf("failed to read user %s: %w", user, err)
	}
	for _, role := range held.Roles {
		if want[role] {
			continue
		}
		if _, err := c.etcd.UserRevokeRole(ctx, user, role); err != nil && !errors.Is(err, rpctypes.ErrRoleNotGranted) {
			return fmt.Errorf("failed to revoke role %s from user %s: %w", role, user, err)
		}
	}
	return nil
}

// validNamespace says whether ns is a namespace name: a key segment without dots.
func validNamespace(ns string) bool { return validSegment(ns) && !strings.Contains(ns, ".") }

// DeleteGatewayUser deletes, as RootUser, the user of the shared gateway of gwns in cluster,
// then its GatewayRole; deleting an absent user or role is not an error. The served
// namespaces' roles stay (waypoints and other gateways may hold them).
func (c *Client) DeleteGatewayUser(ctx context.Context, gwns, cluster string) error {
	user, role := GatewayUser(gwns, cluster), GatewayRole(gwns, cluster)
	if _, err := c.etcd.UserDelete(ctx, user); err != nil && !errors.Is(err, rpctypes.ErrUserNotFound) {
		return fmt.Errorf("failed to delete user %s: %w", user, err)
	}
	if _, err := c.etcd.RoleDelete(ctx, role); err != nil && !errors.Is(err, rpctypes.ErrRoleNotFound) {
		return fmt.Errorf("failed to delete role %s: %w", role, err)
	}
	return nil
}

// ensureKeyRole adds role unless it exists and grants it read on the one key key (no range
// end: keys that merely begin with key are not granted).
func (c *Client) ensureKeyRole(ctx context.Context, role, key string) error {
	if _, err := c.etcd.RoleAdd(ctx, role); err != nil && !errors.Is(err, rpctypes.ErrRoleAlreadyExist) {
		return fmt.Errorf("failed to add role %s: %w", role, err)
	}
	if _, err := c.etcd.RoleGrantPermission(ctx, role, key, "", clientv3.PermissionType(clientv3.PermRead)); err != nil {
		return fmt.Errorf("failed to grant role %s on %s: %w", role, key, err)
	}
	return nil
}

// GatewayUsers lists, as RootUser, the shared gateways' users that exist, each with the
// namespaces whose ReaderRole it holds, sorted (its GatewayRole is no namespace); other users
// are left out.
func (c *Client) GatewayUsers(ctx context.Context) (map[Gateway][]string, error) {
	resp, err := c.etcd.UserList(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to list users %s: %w", c.endpoints(), err)
	}
	out := map[Gateway][]string{}
	for _, u := range resp.Users {
		gwns, cluster, err := ParseGatewayUser(u)
		if err != nil {
			continue
		}
		held, err := c.etcd.UserGet(ctx, u)
		if errors.Is(err, rpctypes.ErrUserNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read user %s: %w", u, err)
		}
		var namespaces []string
		for _, role := range held.Roles {
			if ns, ok := strings.CutPrefix(role, readerRolePrefix); ok {
				namespaces = append(namespaces, ns)
			}
		}
		slices.Sort(namespaces)
		out[Gateway{Namespace: gwns, Cluster: cluster}] = namespaces
	}
	return out, nil
}
