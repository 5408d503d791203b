package wellknown

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Keys users put on Services and Namespaces in member clusters (DESIGN §3.1). Each key with an
// alias lists the alias right after it; readers accept both and the meshfed.io key wins when both
// are set with different values.
const (
	// ServiceScopeKey (label or annotation, on a Service or Namespace) exports a Service with a
	// scope: cluster, segment, global or global-only. A Service's own value beats its Namespace's.
	ServiceScopeKey = "meshfed.io/service-scope"
	// ServiceScopeAliasKey is accepted as ServiceScopeKey, for users of that product.
	ServiceScopeAliasKey = "solo.io/service-scope"

	// ServiceTakeoverKey ("true"/"false") asks that the plain <name>.<ns>.svc.cluster.local name
	// reach the global service inside the segment. global-only implies "true" unless set "false".
	ServiceTakeoverKey = "meshfed.io/service-takeover"
	// ServiceTakeoverAliasKey is accepted as ServiceTakeoverKey.
	ServiceTakeoverAliasKey = "solo.io/service-takeover"

	// TrafficDistributionKey (annotation, Service or Namespace) selects a traffic-distribution
	// mode of DESIGN §3.3.
	TrafficDistributionKey = "meshfed.io/traffic-distribution"
	// IstioTrafficDistributionKey is accepted as TrafficDistributionKey.
	IstioTrafficDistributionKey = "networking.istio.io/traffic-distribution"

	// FailoverPriorityKey (annotation) lists label keys, comma separated, to rank endpoints by,
	// as Istio's failoverPriority.
	FailoverPriorityKey = "meshfed.io/failover-priority"

	// OverprovisioningFactorKey (annotation on a Service or its Namespace) sets Envoy's
	// overprovisioning factor for the service's load split across priority tiers, as a whole
	// number of percent as Envoy writes it: "140" (the default) means 1.4. The Service's value
	// beats the Namespace's. Parsed by federation/priority.ResolveLoad; an invalid value is a
	// Warning Event on the Service and keeps the default.
	OverprovisioningFactorKey = "meshfed.io/overprovisioning-factor"
	// PanicThresholdKey (annotation on a Service or its Namespace) sets Envoy's healthy panic
	// threshold in percent, "0" to "100" ("50" is the default, "0" disables panic). The
	// Service's value beats the Namespace's. Parsed by federation/priority.ResolveLoad; an
	// invalid value is a Warning Event on the Service and keeps the default.
	PanicThresholdKey = "meshfed.io/panic-threshold"
	// RemoteEndpointsKey (annotation on a Service or its Namespace) sets how a waypoint sees
	// the service's endpoints in clusters on other networks than its own: "each" (the default)
	// routes to every remote endpoint through its cluster's waypoint; "aggregated" routes to
	// one entry per remote cluster, weighted by its healthy endpoints, and tunnels to the
	// service through that cluster's waypoint, which balances over its own endpoints (and is
	// then the one to eject failing ones). The Service's value beats the Namespace's. Parsed by
	// federation/priority.ResolveLoad (values: federation/model.RemoteEndpoints); an invalid
	// value is a Warning Event on the Service and keeps the default.
	RemoteEndpointsKey = "meshfed.io/remote-endpoints"

	// OutlierDetectionKey (annotation on a Service or its Namespace) configures the waypoints'
	// outlier detection for the service: "key=value,…" with Istio's OutlierDetection names
	// (consecutive5xxErrors, consecutiveGatewayErrors, consecutiveLocalOriginFailures,
	// baseEjectionTime, maxEjectionTime, maxEjectionPercent). The Service's beats the
	// Namespace's; the oldest export's wins across clusters.
	OutlierDetectionKey = "meshfed.io/outlier-detection"

	// HBONEAddressKey (annotation on a waypoint Service) is the host:port other networks use to
	// reach that waypoint's HBONE port.
	HBONEAddressKey = "meshfed.io/hbone-address"
)

// Topology labels read from Nodes and Namespaces (DESIGN §3.3).
const (
	// NetworkLabel on a Namespace overrides the cluster's network for its endpoints.
	NetworkLabel = "topology.istio.io/network"
	// RegionLabel is the Kubernetes region label of a Node.
	RegionLabel = "topology.kubernetes.io/region"
	// ZoneLabel is the Kubernetes zone label of a Node.
	ZoneLabel = "topology.kubernetes.io/zone"
	// SubzoneLabel is Istio's subzone label of a Node.
	SubzoneLabel = "topology.istio.io/subzone"
	// ClusterLabel names the cluster in failover-priority lists.
	ClusterLabel = "topology.istio.io/cluster"
	// HostnameLabel names the node in failover-priority lists.
	HostnameLabel = "kubernetes.io/hostname"
)

// Labels and names the hub puts on objects it writes into member clusters.
const (
	// ManagedByLabel marks objects the hub owns; the hub never changes an object without it.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is ManagedByLabel's value on meshfed-owned objects.
	ManagedByValue = "meshfed"
	// GlobalServiceNameLabel on a derived Service names the global service it fronts.
	GlobalServiceNameLabel = "meshfed.io/global-service"
	// EndpointSliceManagedByValue is the endpointslice.kubernetes.io/managed-by label of the MCS
	// EndpointSlices the hub writes into importing members: meshfed's own value, never the
	// Kubernetes controller's (endpointslice-controller.k8s.io), so that controller leaves
	// them alone.
	EndpointSliceManagedByValue = "hub.meshfed.io"
	// DerivedServiceSuffix is appended to a Service name to name its derived Service.
	DerivedServiceSuffix = "-global"
	// SystemNamespace is where meshfed keeps its own objects in every cluster.
	SystemNamespace = "meshfed-system"
	// HubLeaseName is the hub replicas' leader-election Lease, in the hub's namespace.
	HubLeaseName = "meshfed-hub"
	// StoreCASecret, in the hub's SystemNamespace, holds the CA of the embedded store (tls.crt,
	// tls.key): the hub creates it at first start, meshfedctl waypoint apply signs waypoints'
	// store client certificates with it.
	StoreCASecret = "meshfed-ca"
	// WaypointStoreSecret, in a waypoint's namespace, holds its store client certificate (tls.crt,
	// tls.key, ca.crt), issued and renewed by the hub (and issued by meshfedctl waypoint apply
	// when it can read the CA).
	WaypointStoreSecret = "meshfed-waypoint-store"
	// WaypointCertSecret, in a waypoint's namespace, holds its HBONE certificate (tls.crt,
	// tls.key, ca.crt): issued and renewed by the hub unless the user created it (without
	// ManagedByLabel), e.g. from `meshfedctl ca issue` or cert-manager.
	WaypointCertSecret = "meshfed-waypoint-certs"
	// WaypointName names each namespace's waypoint Deployment, Service and ServiceAccount.
	WaypointName = "meshfed-waypoint"
	// GatewayName names a shared gateway's Deployment, Service and ServiceAccount, in the
	// namespace it runs in: one waypoint that serves several namespaces of its cluster (the
	// namespaces GatewayNamespacesKey lists) through one HBONE address.
	GatewayName = "meshfed-gateway"
	// GatewayNamespacesKey (annotation on a shared gateway's Service) lists the namespaces the
	// gateway serves, comma-separated. A namespace with a waypoint of its own in the cluster is
	// served by that waypoint, not by the gateway. The value GatewayAllNamespaces serves every
	// namespace of the cluster that has no waypoint of its own and that no gateway lists by name.
	GatewayNamespacesKey = "meshfed.io/gateway-namespaces"
	// GatewayAllNamespaces, the whole value of GatewayNamespacesKey, makes the gateway serve
	// every namespace of its cluster but the system ones, the gateways' own, those being
	// deleted, those with their own waypoint and those a gateway lists by name. Its pods learn
	// which from the store (store.GatewayRecord).
	GatewayAllNamespaces = "*"
	// GatewayStoreSecret and GatewayCertSecret, in a shared gateway's namespace, hold its store
	// client certificate and its HBONE certificate, as WaypointStoreSecret and
	// WaypointCertSecret do for a namespace's waypoint.
	GatewayStoreSecret = "meshfed-gateway-store"
	GatewayCertSecret  = "meshfed-gateway-certs"
	// DefaultSegment is the segment of a MemberCluster that names none.
	DefaultSegment = "default"
	// DefaultSegmentDomain is the domain of a Segment that names none.
	DefaultSegmentDomain = "mesh.internal"
	// HBONEPort is the waypoints' HBONE port (TCP for HTTP/2, UDP for HTTP/3).
	HBONEPort = 15008
)

// Names meshfed's DNS server (cmd/meshfed-dns) reads from the ServiceImports the hub writes into
// a member, and the names it is deployed under there (DESIGN §6a).
const (
	// HostnameAnnotation on a ServiceImport is the global service's hostname,
	// <name>.<namespace>.<segment domain>, that the member's DNS server answers with the
	// import's IPs. The segment domain, everything after <name>.<namespace>., becomes one of the
	// server's zones.
	HostnameAnnotation = "meshfed.io/hostname"
	// TakeoverAnnotation ("true") on a ServiceImport says that takeover is on for the service
	// in this member: the DNS server answers <name>.<namespace>.svc.<cluster domain> with the
	// import's IPs. The hub resolves ServiceTakeoverKey, its alias and global-only into this one
	// value; the DNS server reads nothing else.
	TakeoverAnnotation = "meshfed.io/takeover"
	// TakeoverReleaseAnnotation on a ServiceImport whose takeover was turned off holds the
	// time (RFC 3339) until which the DNS server keeps answering the cluster-local name: the
	// hub first drops the name's forwarding block from CoreDNS, whose reload takes up to
	// its reload interval, and removes TakeoverAnnotation only then, so no query finds the name
	// forwarded but not answered.
	TakeoverReleaseAnnotation = "meshfed.io/takeover-release"
	// ClusterSetDomain is the MCS DNS zone of ServiceImports: <name>.<namespace>.svc.<it>.
	ClusterSetDomain = "clusterset.local"
	// DefaultClusterDomain is a cluster's own DNS domain unless it was configured otherwise.
	DefaultClusterDomain = "cluster.local"
	// DNSName names meshfed's DNS Deployment, Service, ServiceAccount and RBAC objects in
	// SystemNamespace of each member.
	DNSName = "meshfed-dns"
	// DNSTakeoverConfigMap is the ConfigMap in SystemNamespace of each member where meshfed-dns
	// records the taken-over names the member's own DNS really answers as meshfed-dns does
	// (CoreDNS loads the hub's forwarding block only at its next reload). Its keys are those
	// names as TakeoverName spells them, its values the time (RFC 3339) they were first seen
	// answered so; the hub reports a takeover active only for a name listed there.
	DNSTakeoverConfigMap = "meshfed-dns-takeover"
)

// WaypointPodLabel is the label a namespace's waypoint pods carry with the value
// WaypointName; every derived Service selects the pods of its namespace by it. The
// waypoint Deployment (meshfedctl waypoint apply) must label its pod template so.
const WaypointPodLabel = "app.kubernetes.io/name"

// maxServiceName is the longest Service name Kubernetes accepts (a DNS-1035 label).
const maxServiceName = 63

// derivedHashLen is how many hex digits of the service name's SHA-256 a shortened derived
// Service name carries.
const derivedHashLen = 8

// WaypointSelector selects a namespace's waypoint pods.
func WaypointSelector() map[string]string {
	return map[string]string{WaypointPodLabel: WaypointName}
}

// DerivedServiceName names the derived Service of a global service in a member:
// <name>-global, or, when that is longer than 63 characters, the name truncated, a dash, the
// first 8 hex digits of the SHA-256 of the full name, and -global — always at most 63
// characters, distinct for distinct names (up to hash collisions) and a valid DNS-1035 label
// for a valid Service name.
func DerivedServiceName(name string) string {
	full := name + DerivedServiceSuffix
	if len(full) <= maxServiceName {
		return full
	}
	sum := sha256.Sum256([]byte(name))
	tail := "-" + hex.EncodeToString(sum[:])[:derivedHashLen] + DerivedServiceSuffix
	head := strings.TrimRight(name[:maxServiceName-len(tail)], "-")
	return head + tail
}

// TakeoverName is the cluster-local name a global service takes over in a member:
// <name>.<namespace>.svc.<DefaultClusterDomain>.
func TakeoverName(namespace, name string) string {
	return name + "." + namespace + ".svc." + DefaultClusterDomain
}

// One identity per cluster (MCS KEP-2149): a cluster's ID is the UID of its kube-system
// Namespace, which the hub probes and meshfedctl join records, and which the MCS ClusterProperty
// cluster.clusterset.k8s.io carries in the member.
const (
	// ClusterIDNamespace is the Namespace whose UID identifies a cluster.
	ClusterIDNamespace = "kube-system"
	// ClusterIDProperty names the MCS ClusterProperty (group about.k8s.io) holding a cluster's ID.
	ClusterIDProperty = "cluster.clusterset.k8s.io"
	// ClusterIDAnnotation on a MemberCluster is the cluster ID meshfedctl join read from the
	// member, so that a second join of the same cluster under another name is refused even
	// before the hub has probed the first (status.clusterID).
	ClusterIDAnnotation = "meshfed.io/cluster-id"
	// OwnersAnnotation on an object meshfedctl join writes into a member lists, comma separated
	// and sorted, the joins that use it, each as <member name>@<hub cluster ID>. Unjoin removes
	// its own entry and deletes the object only when no entry is left.
	OwnersAnnotation = "meshfed.io/owners"
)
