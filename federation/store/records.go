package store

import "time"

// Record is one value of the store. Each record names the object it describes, so that its key
// follows from it (Key) and a value read back can be checked against the key it was found under.
//
// The record types, and the Stored* types they are made of, are the store's format: every
// field stored under Root is declared here with its JSON name, and the golden files under
// testdata/ pin the bytes. The hub is the only writer of every record; it builds them from
// model types with the New*Record functions, and readers turn them back with their Model
// methods.
type Record interface {
	// Key is where the record is stored.
	Key() Key
	// Validate checks the record's fields, including that Key is well formed.
	Validate() error
	isRecord()
}

// ClusterRecord is a member cluster as the hub last saw it, under ClusterKey(Name).
type ClusterRecord struct {
	// Name is the MemberCluster's name (a DNS-1123 subdomain).
	Name string `json:"name"`
	// Network is the cluster's network (MemberCluster spec.network).
	Network string `json:"network"`
	// Region is the cluster's default region (MemberCluster spec.region); absent when unset.
	Region string `json:"region,omitempty"`
	// Segment is the name of the Segment the cluster belongs to.
	Segment string `json:"segment"`
	// Ready is true while the hub reaches the member and does not hold its endpoints as stale.
	Ready bool `json:"ready"`
	// LastSync is when the hub last read the member's exports, as RFC 3339 with nanoseconds;
	// absent when it never did.
	LastSync time.Time `json:"lastSync,omitzero"`
}

// ServiceRecord is a merged global service: everything a waypoint needs besides endpoints,
// under ServiceKey(Namespace, Domain, Name). The hub rewrites it only when the merge of the
// service changes, never for an endpoint change.
type ServiceRecord struct {
	// Namespace, Name and Domain name the global service: the namespace and name it has in
	// every exporting cluster, and the DNS domain of the exporters' segments.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Domain    string `json:"domain"`
	// Hostname is <name>.<namespace>.<domain>.
	Hostname string `json:"hostname"`
	// Scope is the widest scope of any exporter (model.Scope), for display; each exporter's
	// endpoints keep their own in EndpointsRecord.Scope.
	Scope string `json:"scope"`
	// Takeover asks that the plain <name>.<namespace>.svc.cluster.local name reach the global
	// service; absent when false.
	Takeover bool `json:"takeover,omitempty"`
	// Type is the MCS service type (model.ServiceType): ClusterSetIP or Headless.
	Type string `json:"type"`
	// Ports are the service's ports (the union over exporters) with their waypoint ports;
	// always present, [] when there are none.
	Ports []StoredPort `json:"ports"`
	// Distribution is how waypoints rank the service's endpoints into tiers.
	Distribution StoredDistribution `json:"distribution"`
	// Outlier is the service's outlier-detection policy; absent when none is set.
	Outlier *StoredOutlier `json:"outlier,omitempty"`
	// LoadPolicy tunes the split of the service's load across priority tiers and how remote
	// clusters' endpoints are seen; absent when the service keeps the waypoints' defaults (added within schema version 1: a record without it
	// reads as the defaults).
	LoadPolicy *StoredLoadPolicy `json:"loadPolicy,omitempty"`
	// Properties are the exported Service's fields that the MCS ServiceImport repeats
	// (session affinity, internal traffic policy, traffic distribution, IP families), merged
	// across exporters; absent when no exporter sets any (added within schema version 1: a
	// record without it reads as none set). Recorded for the ServiceImport only: waypoints do
	// not act on them.
	Properties *StoredProperties `json:"properties,omitempty"`
	// Exporters are the clusters that export the service, sorted by cluster; absent when none.
	Exporters []StoredExporter `json:"exporters,omitempty"`
	// Imports are the clusters where the service is visible, sorted by cluster, each with the
	// exporters it may address; absent when none.
	Imports []StoredImport `json:"imports,omitempty"`
	// Conflicts are the disagreements between exporters, resolved and reported; absent when
	// none.
	Conflicts []StoredConflict `json:"conflicts,omitempty"`

	frozen bool   // see Freeze
	key    string // Key().String(), once frozen
}

// Freeze promises that r is never modified again, and returns it. A Writer handed the same
// frozen record again (the same pointer) compares the digest it kept of its encoding instead
// of encoding it again, and encodes it again only to write it: the hub keeps the records of
// services whose merge did not change between passes.
func (r *ServiceRecord) Freeze() *ServiceRecord {
	r.frozen, r.key = true, r.Key().String()
	return r
}

// EndpointsRecord is one cluster's endpoints of one global service, under
// EndpointsKey(Namespace, Domain, Name, Cluster). An endpoint change in that cluster rewrites
// this record and nothing else.
type EndpointsRecord struct {
	// Namespace, Domain and Name are those of the ServiceRecord the endpoints belong to.
	Namespace string `json:"namespace"`
	Domain    string `json:"domain"`
	Name      string `json:"name"`
	// Cluster is the exporting cluster; every endpoint's locality names it or no cluster.
	Cluster string `json:"cluster"`
	// Scope is the cluster's own scope for these endpoints (model.Scope).
	Scope string `json:"scope"`
	// Stale marks endpoints kept while the cluster is unreachable (DESIGN §4, --stale-grace);
	// absent when false.
	Stale bool `json:"stale,omitempty"`
	// Endpoints are the cluster's endpoints, sorted by address; null when it has none.
	Endpoints []StoredEndpoint `json:"endpoints"`

	frozen bool   // see Freeze
	key    string // Key().String(), once frozen
	// after, when set, says this record was made from an earlier one by NewEndpointsRecordAfter.
	after *recordPatch
}

// Freeze promises that r is never modified again, and returns it. A Writer handed the same
// frozen record again (the same pointer) reuses the encoding it stored it as instead of
// digesting every endpoint again, or, for a record stored whole, compares the digest it kept
// of its encoding and encodes it again only to write it: the hub keeps the records of
// unchanged exporters between passes.
func (r *EndpointsRecord) Freeze() *EndpointsRecord {
	r.frozen, r.key = true, r.Key().String()
	return r
}

// keyOf is r's key and its string: kept by a frozen record, which a Sync meets every pass.
func keyOf(r Record) (Key, string) {
	k := r.Key()
	switch r := r.(type) {
	case *ServiceRecord:
		if r.frozen {
			return k, r.key
		}
	case *EndpointsRecord:
		if r.frozen {
			return k, r.key
		}
	}
	return k, k.String()
}

// frozenOf returns r when it is a frozen record (see ServiceRecord.Freeze and
// EndpointsRecord.Freeze), nil otherwise.
func frozenOf(r Record) Record {
	switch r := r.(type) {
	case *ServiceRecord:
		if r.frozen {
			return r
		}
	case *EndpointsRecord:
		if r.frozen {
			return r
		}
	}
	return nil
}

// WaypointsRecord lists the waypoints of one namespace in one cluster, under
// WaypointsKey(Namespace, Cluster).
type WaypointsRecord struct {
	// Namespace is the namespace the waypoints serve.
	Namespace string `json:"namespace"`
	// Cluster is the member cluster they run in.
	Cluster string `json:"cluster"`
	// Network is the waypoints' network: the namespace's network label, else the cluster's.
	Network string `json:"network"`
	// Addresses are the HBONE addresses (host:port, sorted) at which callers on other networks
	// reach the waypoints; null when there are none.
	Addresses []string `json:"addresses"`
	// Gateway, when set, is the namespace of the shared gateway (a Service named
	// wellknown.GatewayName there) that serves Namespace in Cluster; absent when the
	// namespace's own waypoints do.
	Gateway string `json:"gateway,omitempty"`
	// Identity, set with Gateway, is the gateway's SPIFFE ID: the one its HBONE server presents
	// and its tunnels carry. Absent for a namespace's own waypoints, whose ID is
	// spiffe://<trust domain>/ns/<Namespace>/sa/meshfed-waypoint.
	Identity string `json:"identity,omitempty"`
}

// GatewayRecord is a shared gateway, under GatewayKey(Cluster, Namespace): the namespaces it
// serves, which the gateway reads to know them (the annotation "*" serves every namespace of
// its cluster, so its pods cannot be told a fixed list), exactly those whose waypoints records
// name it.
type GatewayRecord struct {
	// Cluster is the member cluster the gateway runs in.
	Cluster string `json:"cluster"`
	// Namespace is the namespace it runs in.
	Namespace string `json:"namespace"`
	// Serves are the namespaces it serves, sorted; null when none.
	Serves []string `json:"serves"`
}

// Key implements Record.
func (r *ClusterRecord) Key() Key { return ClusterKey(r.Name) }

// Key implements Record.
func (r *GatewayRecord) Key() Key { return GatewayKey(r.Cluster, r.Namespace) }

// Key implements Record.
func (r *ServiceRecord) Key() Key { return ServiceKey(r.Namespace, r.Domain, r.Name) }

// Key implements Record.
func (r *EndpointsRecord) Key() Key {
	return EndpointsKey(r.Namespace, r.Domain, r.Name, r.Cluster)
}

// Key implements Record.
func (r *WaypointsRecord) Key() Key { return WaypointsKey(r.Namespace, r.Cluster) }

func (*ClusterRecord) isRecord()   {}
func (*ServiceRecord) isRecord()   {}
func (*EndpointsRecord) isRecord() {}
func (*WaypointsRecord) isRecord() {}
func (*GatewayRecord) isRecord()   {}
