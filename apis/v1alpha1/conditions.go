package v1alpha1

// MemberClusterConditionType is a condition type of MemberCluster.
type MemberClusterConditionType string

// MemberClusterConditionReason is a reason of a MemberCluster condition.
type MemberClusterConditionReason string

const (
	// MemberClusterConditionReady reports whether the hub can reach the cluster with the
	// credentials of its Secret and federates it. Reasons: Connected, SecretNotFound,
	// InvalidKubeconfig, CredentialsRefused, Unreachable, DuplicateCluster.
	MemberClusterConditionReady MemberClusterConditionType = "Ready"
	// MemberClusterConditionSynced reports whether the cluster's exports are merged into the
	// federation. Reasons: CachesSynced, Syncing, Stale, Withdrawn.
	MemberClusterConditionSynced MemberClusterConditionType = "Synced"
)

const (
	// MemberClusterReasonConnected: the hub reached the cluster's API server.
	MemberClusterReasonConnected MemberClusterConditionReason = "Connected"
	// MemberClusterReasonSecretNotFound: the kubeconfig Secret or its key is missing.
	MemberClusterReasonSecretNotFound MemberClusterConditionReason = "SecretNotFound"
	// MemberClusterReasonInvalidKubeconfig: the kubeconfig does not parse or uses a refused
	// credential kind (exec plugin, auth provider, file path).
	MemberClusterReasonInvalidKubeconfig MemberClusterConditionReason = "InvalidKubeconfig"
	// MemberClusterReasonCredentialsRefused: the API server answered 401 or 403.
	MemberClusterReasonCredentialsRefused MemberClusterConditionReason = "CredentialsRefused"
	// MemberClusterReasonUnreachable: the API server did not answer.
	MemberClusterReasonUnreachable MemberClusterConditionReason = "Unreachable"
	// MemberClusterReasonDuplicateCluster: the cluster (by its kube-system namespace UID) is
	// already joined under another, older name; this member is not federated.
	MemberClusterReasonDuplicateCluster MemberClusterConditionReason = "DuplicateCluster"
	// MemberClusterReasonCachesSynced: the cluster's caches synced and its exports are merged.
	MemberClusterReasonCachesSynced MemberClusterConditionReason = "CachesSynced"
	// MemberClusterReasonSyncing: the caches have not synced yet; nothing is merged or withdrawn.
	MemberClusterReasonSyncing MemberClusterConditionReason = "Syncing"
	// MemberClusterReasonStale: the cluster is unreachable; its endpoints are kept, marked
	// stale, until the grace period ends.
	MemberClusterReasonStale MemberClusterConditionReason = "Stale"
	// MemberClusterReasonWithdrawn: the grace period ended; the cluster's endpoints were withdrawn.
	MemberClusterReasonWithdrawn MemberClusterConditionReason = "Withdrawn"
)

// GlobalServiceConditionType is a condition type of GlobalService.
type GlobalServiceConditionType string

// GlobalServiceConditionReason is a reason of a GlobalService condition.
type GlobalServiceConditionReason string

const (
	// GlobalServiceConditionConflict is True when exports disagree. Reasons: NoConflict and the
	// MCS reasons PortConflict, TypeConflict, TrafficDistributionConflict,
	// SessionAffinityConflict, SessionAffinityConfigConflict, InternalTrafficPolicyConflict,
	// and LoadPolicyConflict.
	GlobalServiceConditionConflict GlobalServiceConditionType = "Conflict"
	// GlobalServiceConditionValid is False when a cluster's Service carries a value the hub
	// cannot use. Reasons: Valid, InvalidScope, InvalidTrafficDistribution, InvalidTakeover,
	// UnsupportedType, InvalidOutlierDetection, InvalidLoadPolicy.
	GlobalServiceConditionValid GlobalServiceConditionType = "Valid"
	// GlobalServiceConditionWaypointReady is False when an importing cluster has no waypoint
	// in the namespace, its waypoint has no ready pod, or a derived object name is taken. Reasons:
	// WaypointsReady, WaypointMissing, WaypointNotReady, NameClash.
	GlobalServiceConditionWaypointReady GlobalServiceConditionType = "WaypointReady"
	// GlobalServiceConditionTakeover reports the takeover of the plain service name. Reasons:
	// NotRequested, TakeoverActive, TakeoverPending.
	GlobalServiceConditionTakeover GlobalServiceConditionType = "Takeover"
	// GlobalServiceConditionStored is False when the federation store did not take one of the
	// service's records (too large even split into parts, or breaking a field rule); the
	// waypoints keep what the store held for it. Reasons: Stored, NotStored.
	GlobalServiceConditionStored GlobalServiceConditionType = "Stored"
)

const (
	// GlobalServiceReasonNoConflict: every export agrees.
	GlobalServiceReasonNoConflict GlobalServiceConditionReason = "NoConflict"
	// GlobalServiceReasonPortConflict: exports disagree on a port; the oldest export wins.
	GlobalServiceReasonPortConflict GlobalServiceConditionReason = "PortConflict"
	// GlobalServiceReasonTypeConflict: exports disagree on ClusterSetIP vs Headless.
	GlobalServiceReasonTypeConflict GlobalServiceConditionReason = "TypeConflict"
	// GlobalServiceReasonTrafficDistributionConflict: exports ask for different modes; the
	// default is used.
	GlobalServiceReasonTrafficDistributionConflict GlobalServiceConditionReason = "TrafficDistributionConflict"
	// GlobalServiceReasonLoadPolicyConflict: exports set different load policies
	// (meshfed.io/overprovisioning-factor, meshfed.io/panic-threshold); the oldest export that
	// sets one wins.
	GlobalServiceReasonLoadPolicyConflict GlobalServiceConditionReason = "LoadPolicyConflict"
	// GlobalServiceReasonSessionAffinityConflict: exports set different spec.sessionAffinity
	// values; the oldest export's is on the ServiceImport.
	GlobalServiceReasonSessionAffinityConflict GlobalServiceConditionReason = "SessionAffinityConflict"
	// GlobalServiceReasonSessionAffinityConfigConflict: exports with ClientIP affinity set
	// different timeouts; the ServiceImport has the timeout of the export whose affinity won.
	GlobalServiceReasonSessionAffinityConfigConflict GlobalServiceConditionReason = "SessionAffinityConfigConflict"
	// GlobalServiceReasonInternalTrafficPolicyConflict: exports set different
	// spec.internalTrafficPolicy values; the oldest export's is on the ServiceImport.
	GlobalServiceReasonInternalTrafficPolicyConflict GlobalServiceConditionReason = "InternalTrafficPolicyConflict"
	// GlobalServiceReasonValid: every value read is usable.
	GlobalServiceReasonValid GlobalServiceConditionReason = "Valid"
	// GlobalServiceReasonInvalidScope: a Service or Namespace has an unknown scope value; that
	// Service is not exported.
	GlobalServiceReasonInvalidScope GlobalServiceConditionReason = "InvalidScope"
	// GlobalServiceReasonInvalidTrafficDistribution: an unknown mode; the default is used.
	GlobalServiceReasonInvalidTrafficDistribution GlobalServiceConditionReason = "InvalidTrafficDistribution"
	// GlobalServiceReasonInvalidTakeover: a takeover value is neither "true" nor "false".
	GlobalServiceReasonInvalidTakeover GlobalServiceConditionReason = "InvalidTakeover"
	// GlobalServiceReasonUnsupportedType: an ExternalName Service has no endpoints to federate;
	// it is not exported.
	GlobalServiceReasonUnsupportedType GlobalServiceConditionReason = "UnsupportedType"
	// GlobalServiceReasonWaypointsReady: every importing cluster has a waypoint.
	GlobalServiceReasonWaypointsReady GlobalServiceConditionReason = "WaypointsReady"
	// GlobalServiceReasonWaypointMissing: an importing cluster has no waypoint in the namespace.
	GlobalServiceReasonWaypointMissing GlobalServiceConditionReason = "WaypointMissing"
	// GlobalServiceReasonWaypointNotReady: an importing cluster's waypoint Service in the
	// namespace has no ready endpoint (its pods are missing, starting or failing).
	GlobalServiceReasonWaypointNotReady GlobalServiceConditionReason = "WaypointNotReady"
	// GlobalServiceReasonNameClash: a derived Service or ServiceImport name is taken by an
	// object meshfed does not own; the hub leaves it alone.
	GlobalServiceReasonNameClash GlobalServiceConditionReason = "NameClash"
	// GlobalServiceReasonInvalidOutlierDetection: a meshfed.io/outlier-detection value does not
	// parse; the waypoints' defaults are used for that export.
	GlobalServiceReasonInvalidOutlierDetection GlobalServiceConditionReason = "InvalidOutlierDetection"
	// GlobalServiceReasonInvalidLoadPolicy: a meshfed.io/overprovisioning-factor or
	// meshfed.io/panic-threshold value does not parse; the waypoints' default is used for that
	// setting of that export.
	GlobalServiceReasonInvalidLoadPolicy GlobalServiceConditionReason = "InvalidLoadPolicy"
	// GlobalServiceReasonInvalidHBONEAddress: a waypoint Service's meshfed.io/hbone-address is
	// not a host:port; its load balancer address is used instead. Reported as an Event on the
	// waypoint Service.
	GlobalServiceReasonInvalidHBONEAddress GlobalServiceConditionReason = "InvalidHBONEAddress"
	// GlobalServiceReasonInvalidGatewayNamespaces: a shared gateway Service's
	// meshfed.io/gateway-namespaces lists a namespace the gateway cannot serve (not a namespace
	// name, the gateway's own, one with its own waypoint, one another gateway serves) or none;
	// the gateway serves the others. Reported as an Event on the gateway Service.
	GlobalServiceReasonInvalidGatewayNamespaces GlobalServiceConditionReason = "InvalidGatewayNamespaces"
	// GlobalServiceReasonNotRequested: no export asks for takeover.
	GlobalServiceReasonNotRequested GlobalServiceConditionReason = "NotRequested"
	// GlobalServiceReasonTakeoverActive: the cluster-local name reaches the global service in
	// every member the service is imported into.
	GlobalServiceReasonTakeoverActive GlobalServiceConditionReason = "TakeoverActive"
	// GlobalServiceReasonTakeoverPending: takeover is asked for but not active in some member
	// (no meshfed-dns there, its CoreDNS cannot be configured, the import is not written); the
	// message names them.
	GlobalServiceReasonTakeoverPending GlobalServiceConditionReason = "TakeoverPending"
	// GlobalServiceReasonStored: every record of the service is in the federation store.
	GlobalServiceReasonStored GlobalServiceConditionReason = "Stored"
	// GlobalServiceReasonNotStored: a record of the service could not be written to the store.
	GlobalServiceReasonNotStored GlobalServiceConditionReason = "NotStored"
)

// SegmentConditionAccepted reports whether the segment's spec is usable. Reasons: Accepted.
const SegmentConditionAccepted = "Accepted"
