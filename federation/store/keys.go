package store

import (
	"fmt"
	"strings"
)

// Root is the versioned prefix of every meshfed key. The layout under it is a stable API:
// changing it means a new version prefix, never an edit in place.
const Root = "/meshfed/v1/"

// ClustersPrefix is the prefix of every cluster record.
const ClustersPrefix = Root + "clusters/"

// NamespacesPrefix is the prefix of every namespaced record (services, endpoints, waypoints).
const NamespacesPrefix = Root + "ns/"

// GatewaysPrefix is the prefix of every shared gateway record.
const GatewaysPrefix = Root + "gateways/"

// LeaderPrefix is the election prefix the writers campaign on. Keys under it are not records;
// readers skip them.
const LeaderPrefix = Root + "leader"

// maxSegment is the longest name a key segment may hold (a DNS-1123 subdomain).
const maxSegment = 253

// Kind says which record a key holds.
type Kind int

// The kinds of record in the store.
const (
	// KindCluster is /meshfed/v1/clusters/<cluster>.
	KindCluster Kind = iota + 1
	// KindService is /meshfed/v1/ns/<ns>/services/<domain>/<name>.
	KindService
	// KindEndpoints is /meshfed/v1/ns/<ns>/endpoints/<domain>/<name>/<cluster>.
	KindEndpoints
	// KindWaypoints is /meshfed/v1/ns/<ns>/waypoints/<cluster>.
	KindWaypoints
	// KindEndpointsChunk is /meshfed/v1/ns/<ns>/endpoints/<domain>/<name>/<cluster>/<chunk>:
	// one part of an endpoints record stored in parts (see EndpointsHead).
	KindEndpointsChunk
	// KindGateway is /meshfed/v1/gateways/<cluster>/<ns>: the shared gateway running in
	// namespace ns of cluster, and the namespaces it serves.
	KindGateway
)

// String names the kind as it appears in keys.
func (k Kind) String() string {
	switch k {
	case KindCluster:
		return "clusters"
	case KindService:
		return "services"
	case KindEndpoints:
		return "endpoints"
	case KindWaypoints:
		return "waypoints"
	case KindEndpointsChunk:
		return "endpoints chunk"
	case KindGateway:
		return "gateways"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Key identifies one record. Only the fields its Kind uses are set: Cluster for KindCluster;
// Namespace, Domain and Name for KindService; those and Cluster for KindEndpoints; those and
// Chunk for KindEndpointsChunk; Namespace and Cluster for KindWaypoints and KindGateway.
type Key struct {
	Kind      Kind
	Namespace string
	Domain    string
	Name      string
	Cluster   string
	// Chunk is the chunk's ID: 16 lower-case hexadecimal digits (see EndpointsChunk).
	Chunk string
}

// ClusterKey is the key of a cluster record.
func ClusterKey(cluster string) Key { return Key{Kind: KindCluster, Cluster: cluster} }

// ServiceKey is the key of a global service record.
func ServiceKey(ns, domain, name string) Key {
	return Key{Kind: KindService, Namespace: ns, Domain: domain, Name: name}
}

// EndpointsKey is the key of one cluster's endpoints of a global service.
func EndpointsKey(ns, domain, name, cluster string) Key {
	return Key{Kind: KindEndpoints, Namespace: ns, Domain: domain, Name: name, Cluster: cluster}
}

// EndpointsChunkKey is the key of one chunk of a cluster's endpoints of a global service.
func EndpointsChunkKey(ns, domain, name, cluster, chunk string) Key {
	return Key{Kind: KindEndpointsChunk, Namespace: ns, Domain: domain, Name: name, Cluster: cluster, Chunk: chunk}
}

// Endpoints is the key of the endpoints record a chunk key belongs to; other keys are returned
// as they are.
func (k Key) Endpoints() Key {
	if k.Kind != KindEndpointsChunk {
		return k
	}
	return EndpointsKey(k.Namespace, k.Domain, k.Name, k.Cluster)
}

// WaypointsKey is the key of a namespace's waypoints in one cluster.
func WaypointsKey(ns, cluster string) Key {
	return Key{Kind: KindWaypoints, Namespace: ns, Cluster: cluster}
}

// GatewayKey is the key of the shared gateway running in namespace ns of cluster.
func GatewayKey(cluster, ns string) Key {
	return Key{Kind: KindGateway, Namespace: ns, Cluster: cluster}
}

// NamespacePrefix is the prefix a waypoint of namespace ns watches.
func NamespacePrefix(ns string) string { return NamespacesPrefix + ns + "/" }

// ServicesPrefix is the prefix of the service records of namespace ns.
func ServicesPrefix(ns string) string { return NamespacePrefix(ns) + "services/" }

// ServiceEndpointsPrefix is the prefix of every cluster's endpoints of one global service.
func ServiceEndpointsPrefix(ns, domain, name string) string {
	return NamespacePrefix(ns) + "endpoints/" + domain + "/" + name + "/"
}

// String renders the key as stored in etcd. It does not validate; Validate does.
func (k Key) String() string {
	switch k.Kind {
	case KindCluster:
		return ClustersPrefix + k.Cluster
	case KindService:
		return ServicesPrefix(k.Namespace) + k.Domain + "/" + k.Name
	case KindEndpoints:
		return ServiceEndpointsPrefix(k.Namespace, k.Domain, k.Name) + k.Cluster
	case KindWaypoints:
		return NamespacePrefix(k.Namespace) + "waypoints/" + k.Cluster
	case KindEndpointsChunk:
		return ServiceEndpointsPrefix(k.Namespace, k.Domain, k.Name) + k.Cluster + "/" + k.Chunk
	case KindGateway:
		return GatewaysPrefix + k.Cluster + "/" + k.Namespace
	}
	return ""
}

// Validate reports whether the key is well formed: a known kind, exactly the fields of that
// kind set, each a DNS-1123 subdomain.
func (k Key) Validate() error {
	fields, err := k.fields()
	if err != nil {
		return err
	}
	if k.Kind == KindEndpointsChunk && !validChunkID(k.Chunk) {
		return fmt.Errorf("failed to validate key %q: chunk %q is not 16 lower-case hexadecimal digits: %w", k.String(), k.Chunk, ErrMalformedKey)
	}
	if k.Kind != KindEndpointsChunk && k.Chunk != "" {
		return fmt.Errorf("failed to validate key %q: chunk is set on a %s key: %w", k.String(), k.Kind, ErrMalformedKey)
	}
	for _, f := range fields {
		if f.want && !validSegment(f.value) {
			return fmt.Errorf("failed to validate key %q: %s %q is not a DNS-1123 subdomain: %w", k.String(), f.name, f.value, ErrMalformedKey)
		}
		if !f.want && f.value != "" {
			return fmt.Errorf("failed to validate key %q: %s is set on a %s key: %w", k.String(), f.name, k.Kind, ErrMalformedKey)
		}
	}
	return nil
}

// keyField is one field of a Key with whether its kind uses it.
type keyField struct {
	name  string
	value string
	want  bool
}

func (k Key) fields() ([]keyField, error) {
	uses := map[Kind][4]bool{
		KindCluster:        {false, false, false, true},
		KindService:        {true, true, true, false},
		KindEndpoints:      {true, true, true, true},
		KindWaypoints:      {true, false, false, true},
		KindEndpointsChunk: {true, true, true, true},
		KindGateway:        {true, false, false, true},
	}
	u, ok := uses[k.Kind]
	if !ok {
		return nil, fmt.Errorf("failed to validate key of kind %s: %w", k.Kind, ErrMalformedKey)
	}
	return []keyField{
		{"namespace", k.Namespace, u[0]},
		{"domain", k.Domain, u[1]},
		{"name", k.Name, u[2]},
		{"cluster", k.Cluster, u[3]},
	}, nil
}

// ParseKey parses a stored key. It accepts exactly the keys String produces for valid keys and
// rejects everything else with an error wrapping ErrMalformedKey.
func ParseKey(s string) (Key, error) {
	rest, ok := strings.CutPrefix(s, Root)
	if !ok {
		return Key{}, fmt.Errorf("failed to parse key %q: not under %s: %w", s, Root, ErrMalformedKey)
	}
	k, ok := keyFromParts(strings.Split(rest, "/"))
	if !ok {
		return Key{}, fmt.Errorf("failed to parse key %q: unknown layout: %w", s, ErrMalformedKey)
	}
	if err := k.Validate(); err != nil {
		return Key{}, fmt.Errorf("failed to parse key %q: %w", s, err)
	}
	return k, nil
}

// keyFromParts maps the segments after Root onto a Key by layout; it does not validate names.
func keyFromParts(p []string) (Key, bool) {
	switch {
	case len(p) == 2 && p[0] == "clusters":
		return ClusterKey(p[1]), true
	case len(p) == 3 && p[0] == "gateways":
		return GatewayKey(p[1], p[2]), true
	case len(p) < 4 || p[0] != "ns":
		return Key{}, false
	case len(p) == 5 && p[2] == "services":
		return ServiceKey(p[1], p[3], p[4]), true
	case len(p) == 6 && p[2] == "endpoints":
		return EndpointsKey(p[1], p[3], p[4], p[5]), true
	case len(p) == 7 && p[2] == "endpoints":
		return EndpointsChunkKey(p[1], p[3], p[4], p[5], p[6]), true
	case len(p) == 4 && p[2] == "waypoints":
		return WaypointsKey(p[1], p[3]), true
	}
	return Key{}, false
}

// validSegment reports whether s is a DNS-1123 subdomain: lower-case alphanumerics, '-' and
// '.', starting and ending with an alphanumeric, at most 253 characters. Every name in a key
// (namespace, service, cluster, domain) is one in Kubernetes, and none can contain '/'.
func validSegment(s string) bool {
	if s == "" || len(s) > maxSegment {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		edge := i == 0 || i == len(s)-1
		if !alnum && (edge || (c != '-' && c != '.')) {
			return false
		}
	}
	return true
}

// chunkIDLen is the length of a chunk ID: 64 bits in hexadecimal.
const chunkIDLen = 16

// validChunkID reports whether s is 16 lower-case hexadecimal digits.
func validChunkID(s string) bool {
	if len(s) != chunkIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
