package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The etcd users and roles of meshfed. Like the keys, their names are a stable API: an external
// etcd's administrator creates them by these names (README, "Access").
const (
	// RootUser is etcd's administrator; only it can enable auth and manage users and roles.
	RootUser = "root"
	// HubUser is the hub's user: the store's only writer, with WriterRole.
	HubUser = "meshfed-hub"
	// WriterRole may read and write every key under Root (records and the writers' election).
	WriterRole = "meshfed-writer"
	// readerRolePrefix, waypointUserPrefix and gatewayUserPrefix begin the per-namespace role,
	// the per-waypoint and the per-gateway user names.
	readerRolePrefix   = "meshfed-reader:"
	waypointUserPrefix = "meshfed-waypoint:"
	gatewayUserPrefix  = "meshfed-gateway:"
)

// ErrMalformedUser is wrapped by ParseWaypointUser's and ParseGatewayUser's errors.
var ErrMalformedUser = errors.New("malformed waypoint or gateway user")

// ReaderRole is the role of the waypoints of namespace ns: read-only on NamespacePrefix(ns),
// which is all a waypoint's watch and revision reads touch.
func ReaderRole(ns string) string { return readerRolePrefix + ns }

// WaypointUser is the etcd user of the waypoints of namespace ns in cluster: the Common Name of
// their store client certificate (etcd takes the user from it under --client-cert-auth). A
// namespace is a DNS-1123 label and a cluster a DNS-1123 subdomain, neither holds ':', so the
// name parses back unambiguously.
func WaypointUser(ns, cluster string) string { return waypointUserPrefix + ns + ":" + cluster }

// ParseWaypointUser returns the namespace and cluster of a name WaypointUser made, and an
// error wrapping ErrMalformedUser for any other name (etcd's own users, other tools' users).
func ParseWaypointUser(user string) (ns, cluster string, err error) {
	return parseUser(waypointUserPrefix, user)
}

// parseUser splits a user name made of prefix, a namespace, ':' and a cluster.
func parseUser(prefix, user string) (ns, cluster string, err error) {
	rest, ok := strings.CutPrefix(user, prefix)
	if ok {
		ns, cluster, ok = strings.Cut(rest, ":")
	}
	if !ok || !validNamespace(ns) || !validSegment(cluster) {
		return "", "", fmt.Errorf("failed to parse user %q as %s<namespace>:<cluster>: %w", user, prefix, ErrMalformedUser)
	}
	return ns, cluster, nil
}

// IsPermissionDenied reports whether err is etcd refusing an operation to the client's user. A
// refused watch is cancelled with the refusal only in its reason text, so that counts too.
func IsPermissionDenied(err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, rpctypes.ErrPermissionDenied) || status.Code(err) == codes.PermissionDenied ||
		strings.Contains(err.Error(), rpctypes.ErrPermissionDenied.Error())
}

// EnableAccess turns on etcd's auth with meshfed's users and roles, as RootUser: the root user
// and HubUser with WriterRole, both without a password (they authenticate with a client
// certificate whose Common Name is the user), then etcd auth itself. It is idempotent: what
// exists is kept, and an etcd with auth already on is left as it is.
func (c *Client) EnableAccess(ctx context.Context) error {
	st, err := c.etcd.AuthStatus(ctx)
	if err != nil {
		return fmt.Errorf("failed to read auth status %s: %w", c.endpoints(), err)
	}
	if st.Enabled {
		return nil
	}
	steps := []func() error{
		func() error { return c.ensureUser(ctx, RootUser) },
		func() error { return c.ensureUserRole(ctx, RootUser, "root") },
		func() error {
			return c.ensureRole(ctx, WriterRole, Root, clientv3.PermissionType(clientv3.PermReadWrite))
		},
		func() error { return c.ensureUser(ctx, HubUser) },
		func() error { return c.ensureUserRole(ctx, HubUser, WriterRole) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	if _, err := c.etcd.AuthEnable(ctx); err != nil {
		return fmt.Errorf("failed to enable auth %s: %w", c.endpoints(), err)
	}
	return nil
}

// EnsureWaypointUser creates, as RootUser, the user of the waypoints of ns in cluster with the
// namespace's ReaderRole (created too when missing). It is idempotent.
func (c *Client) EnsureWaypointUser(ctx context.Context, ns, cluster string) error {
	if err := WaypointsKey(ns, cluster).Validate(); err != nil {
		return fmt.Errorf("failed to create waypoint user %s/%s: %w", ns, cluster, err)
	}
	user, role := WaypointUser(ns, cluster), ReaderRole(ns)
	if err := c.ensureRole(ctx, role, NamespacePrefix(ns), clientv3.PermissionType(clientv3.PermRead)); err != nil {
		return err
	}
	if err := c.ensureUser(ctx, user); err != nil {
		return err
	}
	return c.ensureUserRole(ctx, user, role)
}

// DeleteWaypointUser deletes, as RootUser, the user of the waypoints of ns in cluster; its
// certificate authenticates nobody afterwards. Deleting an absent user is not an error. The
// namespace's role stays (other clusters' waypoints may hold it).
func (c *Client) DeleteWaypointUser(ctx context.Context, ns, cluster string) error {
	user := WaypointUser(ns, cluster)
	if _, err := c.etcd.UserDelete(ctx, user); err != nil && !errors.Is(err, rpctypes.ErrUserNotFound) {
		return fmt.Errorf("failed to delete user %s: %w", user, err)
	}
	return nil
}

// DeleteReaderRole deletes, as RootUser, the ReaderRole of namespace ns, once no waypoint user
// of ns and no gateway user serving ns is left to hold it. Deleting an absent role is not an error.
func (c *Client) DeleteReaderRole(ctx context.Context, ns string) error {
	role := ReaderRole(ns)
	if _, err := c.etcd.RoleDelete(ctx, role); err != nil && !errors.Is(err, rpctypes.ErrRoleNotFound) {
		return fmt.Errorf("failed to delete role %s: %w", role, err)
	}
	return nil
}

// ReaderRoleNamespaces lists, as RootUser, the namespaces whose ReaderRole exists.
func (c *Client) ReaderRoleNamespaces(ctx context.Context) ([]string, error) {
	resp, err := c.etcd.RoleList(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to list roles %s: %w", c.endpoints(), err)
	}
	var out []string
	for _, r := range resp.Roles {
		if ns, ok := strings.CutPrefix(r, readerRolePrefix); ok {
			out = append(out, ns)
		}
	}
	return out, nil
}

// WaypointUsers lists, as RootUser, the waypoint users that exist, as WaypointsKeys (namespace
// and cluster); other users are left out.
func (c *Client) WaypointUsers(ctx context.Context) ([]Key, error) {
	resp, err := c.etcd.UserList(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to list users %s: %w", c.endpoints(), err)
	}
	var out []Key
	for _, u := range resp.Users {
		if ns, cluster, err := ParseWaypointUser(u); err == nil {
			out = append(out, WaypointsKey(ns, cluster))
		}
	}
	return out, nil
}

// ensureUser adds a user without a password, unless it exists.
func (c *Client) ensureUser(ctx context.Context, user string) error {
	_, err := c.etcd.UserAddWithOptions(ctx, user, "", &clientv3.UserAddOptions{NoPassword: true})
	if err != nil && !errors.Is(err, rpctypes.ErrUserAlreadyExist) {
		return fmt.Errorf("failed to add user %s: %w", user, err)
	}
	return nil
}

// ensureUserRole grants role to user; granting a role held already is a no-op in etcd.
func (c *Client) ensureUserRole(ctx context.Context, user, role string) error {
	if _, err := c.etcd.UserGrantRole(ctx, user, role); err != nil {
		return fmt.Errorf("failed to grant role %s to user %s: %w", role, user, err)
	}
	return nil
}

// ensureRole adds role unless it exists and grants it perm on every key under prefix.
func (c *Client) ensureRole(ctx context.Context, role, prefix string, perm clientv3.PermissionType) error {
	if _, err := c.etcd.RoleAdd(ctx, role); err != nil && !errors.Is(err, rpctypes.ErrRoleAlreadyExist) {
		return fmt.Errorf("failed to add role %s: %w", role, err)
	}
	if _, err := c.etcd.RoleGrantPermission(ctx, role, prefix, clientv3.GetPrefixRangeEnd(prefix), perm); err != nil {
		return fmt.Errorf("failed to grant role %s on %s: %w", role, prefix, err)
	}
	return nil
}

// endpoints names the etcd cluster in errors.
func (c *Client) endpoints() string { return strings.Join(c.etcd.Endpoints(), ",") }

// ConnectAwaitingAccess connects like Connect; while etcd refuses the client's user (a waypoint
// started before the hub created its user), it logs why and tries again, waiting first and then
// twice as long each time up to maxWait, until ctx ends. Any other error is returned at once.
// When ctx ends, the error wraps ctx's and the last refusal, also when it ends during an
// attempt (whose own error is then only that ctx ended).
func ConnectAwaitingAccess(ctx context.Context, cfg ClientConfig, first, maxWait time.Duration) (*Client, error) {
	log := cmp.Or(cfg.Logger, slog.Default())
	wait := first
	var refused error // the last refusal
	for {
		c, err := Connect(ctx, cfg)
		switch {
		case refused != nil && err != nil && ctx.Err() != nil:
			// ctx ended during an attempt after a refusal: the refusal is what to report.
			return nil, fmt.Errorf("failed to connect to the store: %w (last refusal: %w)", ctx.Err(), refused)
		case !IsPermissionDenied(err):
			return c, err
		}
		refused = err
		log.Warn("the store refuses this client's user, retrying: a waypoint's user exists once the hub has published the waypoint",
			"scope", cfg.Scope, "retryIn", wait, "error", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("failed to connect to the store: %w (last refusal: %w)", ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, maxWait)
	}
}
