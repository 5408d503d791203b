package system

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// ErrNoEndpoint reports a Service IP and port with no ready endpoint: kube-proxy would reject
// the connection.
var ErrNoEndpoint = errors.New("no ready endpoint")

// dial is the client's DialContext. A host name is resolved the way a pod resolves it, by its
// cluster's CoreDNS (the member's DNS pod, over UDP from inside the client's pod), and the
// Service IP it gets is carried to one endpoint as kube-proxy would (ServiceEndpoint). An IP
// address is dialed as it is.
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return c.Pod.Dial(ctx, network, addr)
	}
	ip, err := c.Resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("failed to dial %s: bad port: %w", addr, err)
	}
	target, err := c.f.ServiceEndpoint(ctx, c.Member, ip, int32(p))
	if err != nil {
		return nil, fmt.Errorf("failed to dial %s (%s): %w", addr, ip, err)
	}
	return c.Pod.Dial(ctx, network, target)
}

// Resolve looks name up as a program in the client's pod does: Go's own resolver, its queries
// sent to the member's CoreDNS from inside the pod (the pod's resolv.conf nameserver). It
// returns the first IPv4 address.
func (c *Client) Resolve(ctx context.Context, name string) (netip.Addr, error) {
	if c.Member.DNS == nil {
		return netip.Addr{}, fmt.Errorf("failed to resolve %s: member %s runs no DNS", name, c.Member.Name)
	}
	server := c.Member.DNS.Addr.String()
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return c.Pod.Dial(ctx, network, server)
	}}
	addrs, err := r.LookupNetIP(ctx, "ip4", dns.Fqdn(name))
	if err != nil {
		return netip.Addr{}, err
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("failed to resolve %s: no address", name)
	}
	return addrs[0].Unmap(), nil
}

// Query sends one query for name to the member's CoreDNS from inside the client's pod and
// returns the response (its rcode tells NXDOMAIN from NOERROR).
func (c *Client) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	if c.Member.DNS == nil {
		return nil, fmt.Errorf("failed to query %s: member %s runs no DNS", name, c.Member.Name)
	}
	conn, err := c.Pod.Dial(ctx, "udp", c.Member.DNS.Addr.String())
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	req := new(dns.Msg)
	req.SetQuestion(dns.Fqdn(name), qtype)
	resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).ExchangeWithConnContext(ctx, req, &dns.Conn{Conn: conn})
	return resp, err
}

// ServiceEndpoint is what kube-proxy does for a connection to a Service IP and port of m: it
// picks one ready endpoint of that Service and returns its address and target port. A
// Service selecting waypoint pods (a derived Service) leads to the namespace's waypoint pod,
// whose address the harness knows (there is no EndpointSlice controller in the lab); any other
// Service to a ready endpoint of its EndpointSlices.
func (f *Federation) ServiceEndpoint(ctx context.Context, m *Member, ip netip.Addr, port int32) (string, error) {
	var list corev1.ServiceList
	if err := m.Client().List(ctx, &list); err != nil {
		return "", fmt.Errorf("failed to list the Services of %s: %w", m.Name, err)
	}
	for i := range list.Items {
		svc := &list.Items[i]
		if !hasClusterIP(svc, ip) {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if p.Port != port || p.Protocol == corev1.ProtocolUDP {
				continue
			}
			if maps.Equal(svc.Spec.Selector, wellknown.WaypointSelector()) {
				return f.waypointEndpoint(m, svc, p)
			}
			return sliceEndpoint(ctx, m, svc, p)
		}
		return "", fmt.Errorf("service %s/%s in %s has no TCP port %d: %w", svc.Namespace, svc.Name, m.Name, port, ErrNoEndpoint)
	}
	return "", fmt.Errorf("no Service with IP %s in %s: %w", ip, m.Name, ErrNoEndpoint)
}

func hasClusterIP(svc *corev1.Service, ip netip.Addr) bool {
	for _, s := range append([]string{svc.Spec.ClusterIP}, svc.Spec.ClusterIPs...) {
		if a, err := netip.ParseAddr(s); err == nil && a == ip {
			return true
		}
	}
	return false
}

func (f *Federation) waypointEndpoint(m *Member, svc *corev1.Service, p corev1.ServicePort) (string, error) {
	w := f.waypoint(m, svc.Namespace)
	if w == nil || p.TargetPort.IntVal == 0 {
		return "", fmt.Errorf("service %s/%s in %s: no waypoint pod or no numeric target port: %w", svc.Namespace, svc.Name, m.Name, ErrNoEndpoint)
	}
	return net.JoinHostPort(w.Addr.String(), strconv.Itoa(int(p.TargetPort.IntVal))), nil
}

// sliceEndpoint picks a random ready endpoint of svc's EndpointSlices for port p (matched by
// name, as kube-proxy matches a Service port to an EndpointSlice port).
func sliceEndpoint(ctx context.Context, m *Member, svc *corev1.Service, p corev1.ServicePort) (string, error) {
	var slices discoveryv1.EndpointSliceList
	if err := m.Client().List(ctx, &slices, client.InNamespace(svc.Namespace), client.MatchingLabels{discoveryv1.LabelServiceName: svc.Name}); err != nil {
		return "", fmt.Errorf("failed to list the EndpointSlices of %s/%s in %s: %w", svc.Namespace, svc.Name, m.Name, err)
	}
	var ready []string
	for _, s := range slices.Items {
		for _, ep := range s.Ports {
			if ep.Port == nil || ep.Name == nil || *ep.Name != p.Name {
				continue
			}
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && !*e.Conditions.Ready {
					continue
				}
				for _, a := range e.Addresses {
					ready = append(ready, net.JoinHostPort(a, strconv.Itoa(int(*ep.Port))))
				}
			}
		}
	}
	if len(ready) == 0 {
		return "", fmt.Errorf("service %s/%s in %s port %s: %w", svc.Namespace, svc.Name, m.Name, strings.TrimSpace(p.Name), ErrNoEndpoint)
	}
	return ready[rand.IntN(len(ready))], nil
}
