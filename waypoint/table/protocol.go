package table

import (
	"strings"

	"github.com/meshfed/meshfed/federation/model"
)

// Protocol is how the waypoint balances a route's traffic and speaks to its endpoints.
type Protocol string

// The protocols of a route.
const (
	// ProtocolTCP is balanced per connection: each client connection is spliced to one endpoint.
	ProtocolTCP Protocol = "tcp"
	// ProtocolHTTP is balanced per request; the waypoint speaks HTTP/1.1 to the endpoints.
	ProtocolHTTP Protocol = "http"
	// ProtocolH2C is balanced per request; the waypoint speaks HTTP/2 without TLS (prior
	// knowledge) to the endpoints, as gRPC needs.
	ProtocolH2C Protocol = "h2c"
)

// PerRequest reports whether the protocol is balanced per request.
func (p Protocol) PerRequest() bool { return p == ProtocolHTTP || p == ProtocolH2C }

// ProtocolOf decides a service port's protocol. The appProtocol wins when it names one the
// waypoint knows (http; h2c, kubernetes.io/h2c, http2 and grpc speak h2c upstream); any other
// appProtocol is TCP. Without an appProtocol the port name decides, as Istio's naming
// convention: "http" or "http-…" is HTTP/1.1, "http2…" and "grpc…" are h2c. Matching ignores case.
// Whatever the upstream protocol, the waypoint's listener accepts HTTP/1.1 and h2c from clients.
func ProtocolOf(p model.Port) Protocol {
	if p.AppProtocol != "" {
		switch strings.ToLower(p.AppProtocol) {
		case "http":
			return ProtocolHTTP
		case "h2c", "kubernetes.io/h2c", "http2", "grpc":
			return ProtocolH2C
		default:
			return ProtocolTCP
		}
	}
	name := strings.ToLower(p.Name)
	switch {
	case name == "http" || strings.HasPrefix(name, "http-"):
		return ProtocolHTTP
	case strings.HasPrefix(name, "http2"), strings.HasPrefix(name, "grpc"):
		return ProtocolH2C
	default:
		return ProtocolTCP
	}
}
