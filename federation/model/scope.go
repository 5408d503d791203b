package model

import "fmt"

// Scope says where a cluster's endpoints of a service are addressable and where the service is
// imported (DESIGN §3.2).
type Scope string

// The scopes a Service can ask for with meshfed.io/service-scope.
const (
	// ScopeCluster keeps a cluster's endpoints to clients of that cluster.
	ScopeCluster Scope = "cluster"
	// ScopeSegment makes a cluster's endpoints addressable from clusters of its segment.
	ScopeSegment Scope = "segment"
	// ScopeGlobal makes a cluster's endpoints addressable from every member cluster.
	ScopeGlobal Scope = "global"
	// ScopeGlobalOnly is ScopeGlobal that also asks for takeover of the plain service name.
	ScopeGlobalOnly Scope = "global-only"
)

// Scopes lists every valid scope, narrowest first.
var Scopes = []Scope{ScopeCluster, ScopeSegment, ScopeGlobal, ScopeGlobalOnly}

// ParseScope parses the value of a scope label or annotation. It accepts exactly the documented
// values; anything else is an error naming the value.
func ParseScope(s string) (Scope, error) {
	for _, sc := range Scopes {
		if string(sc) == s {
			return sc, nil
		}
	}
	return "", fmt.Errorf("unknown service scope %q (want one of cluster, segment, global, global-only)", s)
}

// Width orders scopes from narrowest (0) to widest (3); an invalid scope is -1.
func (s Scope) Width() int {
	for i, sc := range Scopes {
		if sc == s {
			return i
		}
	}
	return -1
}

// IsGlobal reports whether the scope makes endpoints addressable from every member cluster.
func (s Scope) IsGlobal() bool { return s == ScopeGlobal || s == ScopeGlobalOnly }
