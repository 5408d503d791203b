package waypoint

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/store"
)

// A Spec with Serves set is a shared gateway: one waypoint Deployment in Spec.Namespace (a
// namespace of its own, such as meshfed-system) that serves the namespaces it lists through one
// HBONE address. Its objects are named wellknown.GatewayName instead of wellknown.WaypointName,
// its pods carry that name in wellknown.WaypointPodLabel (so that no derived Service of its
// own namespace selects them), its Service lists the served namespaces in
// wellknown.GatewayNamespacesKey for the hub, and it reads the store as its own etcd user.

// GatewayNamespacesEnv tells a shared gateway's pods the namespaces they serve (the
// meshfed-waypoint binary's --gateway-namespaces).
const GatewayNamespacesEnv = "MESHFED_GATEWAY_NAMESPACES"

// Shared reports whether s is a shared gateway.
func (s Spec) Shared() bool { return len(s.Serves) > 0 }

// name names the Deployment, Service, ServiceAccount and optional objects.
func (s Spec) name() string {
	if s.Shared() {
		return wellknown.GatewayName
	}
	return wellknown.WaypointName
}

// selector selects the pods of this waypoint or gateway in its namespace.
func (s Spec) selector() map[string]string {
	return map[string]string{wellknown.WaypointPodLabel: s.name()}
}

// storeUser is the etcd user the store client certificate names: the namespace's waypoint
// user, or the gateway's, which reads exactly the namespaces it serves.
func (s Spec) storeUser() string {
	if s.Shared() {
		return store.GatewayUser(s.Namespace, s.Cluster)
	}
	return store.WaypointUser(s.Namespace, s.Cluster)
}

// defaultSecrets are the Secrets the hub issues the HBONE and store certificates into.
func (s Spec) defaultSecrets() (cert, etcd string) {
	if s.Shared() {
		return wellknown.GatewayCertSecret, wellknown.GatewayStoreSecret
	}
	return wellknown.WaypointCertSecret, wellknown.WaypointStoreSecret
}

// rbacName names the ClusterRole and ClusterRoleBinding that let the pods get their Node.
func (s Spec) rbacName() string { return s.name() + "-" + s.Namespace }

// ParseServes checks --gateway-namespaces as the hub reads the annotation it becomes
// (member.ParseGatewayNamespaces), but strictly: an entry that is not a namespace name, the
// gateway's own namespace ns (which the hub does not let a gateway serve) or an empty list is
// an error. The result is sorted, without duplicates; wellknown.GatewayAllNamespaces alone
// ("*": every namespace of the cluster left to the gateway) is kept as it is.
func ParseServes(ns string, list []string) ([]string, error) {
	if len(list) == 1 && strings.TrimSpace(list[0]) == wellknown.GatewayAllNamespaces {
		return []string{wellknown.GatewayAllNamespaces}, nil
	}
	out, err := member.ParseGatewayNamespaces(strings.Join(list, ","))
	switch {
	case err != nil:
		return nil, fmt.Errorf("invalid --gateway-namespaces: %w", err)
	case slices.Contains(out, ns):
		return nil, fmt.Errorf("invalid --gateway-namespaces: %s is the gateway's own namespace; a gateway serves other namespaces", ns)
	case len(out) == 0:
		return nil, errors.New("invalid --gateway-namespaces: no namespace")
	}
	return out, nil
}
