package app

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/waypoint"
)

// Options configure a waypoint.
type Options struct {
	// Namespace is the namespace the waypoint serves; in gateway mode, the gateway's own.
	Namespace string
	// GatewayNamespaces, when set, turn on shared gateway mode: one process serving these
	// namespaces of its cluster through one HBONE address, as meshfed-gateway of Namespace.
	// AllNamespaces ("*") serves those the gateway's store record lists, as it changes.
	GatewayNamespaces []string
	Cluster           string
	Network           string
	Region            string
	Zone              string
	Subzone           string
	Node              string
	// Kubeconfig reads the Node for its topology labels; empty means in-cluster (in a pod) or none.
	Kubeconfig string
	// EtcdEndpoints are the federation store's client URLs. The store authenticates the waypoint
	// by its client certificate (Common Name meshfed-waypoint:<ns>:<cluster>, reloaded on change)
	// or by a user name and a password read from a file.
	EtcdEndpoints    []string
	EtcdCAFile       string
	EtcdCertFile     string
	EtcdKeyFile      string
	EtcdUsername     string
	EtcdPasswordFile string
	// ListenHost is where outbound listeners bind.
	ListenHost string
	// AdminAddr serves /healthz, /readyz and /debug/endpoints; "0" disables.
	AdminAddr string
	// Profiling adds Go's /debug/pprof/ handlers to the admin address.
	Profiling      bool
	ConnectTimeout time.Duration
	Retries        int
	// CertFile, KeyFile and CAFile are the waypoint's SPIFFE certificate, its key and the
	// trust bundle, reloaded on change; without them HBONE is off (same-network only).
	CertFile string
	KeyFile  string
	CAFile   string
	// TrustDomain is the SPIFFE trust domain of peers and callers.
	TrustDomain string
	// HBONEAddress is where the inbound HBONE server listens (TCP and UDP); "0" or "" disables.
	HBONEAddress string
	// HBONETransport is the outbound tunnel transport, h2 or h3 (h3 falls back to h2).
	HBONETransport string
	// AllowCallers is a comma-separated list of SPIFFE IDs that replaces the default caller
	// policy of the inbound server.
	AllowCallers string
	// HBONELimits bound what callers can make the inbound server hold.
	HBONELimits hbone.Limits
	// AllowLoopbackEndpoints lets the waypoint dial endpoints on loopback (single-host labs).
	AllowLoopbackEndpoints bool
	// ShutdownDelay and DrainTimeout are the drain on SIGTERM (waypoint.DrainOptions).
	ShutdownDelay time.Duration
	DrainTimeout  time.Duration
}

// Defaults of the drain on SIGTERM; meshfedctl waypoint apply sets both and a termination
// grace period that covers them.
const (
	DefaultShutdownDelay = 5 * time.Second
	DefaultDrainTimeout  = 20 * time.Second
)

// DefaultOptions reads the defaults from the environment (getenv is os.Getenv in main).
func DefaultOptions(getenv func(string) string) Options {
	return Options{
		Namespace:         getenv("POD_NAMESPACE"),
		GatewayNamespaces: splitList(getenv(GatewayNamespacesEnv)),
		Cluster:           getenv("MESHFED_CLUSTER"),
		Network:           getenv("MESHFED_NETWORK"),
		Region:            getenv("MESHFED_REGION"),
		Zone:              getenv("MESHFED_ZONE"),
		Subzone:           getenv("MESHFED_SUBZONE"),
		Node:              getenv("NODE_NAME"),
		EtcdEndpoints:     splitList(getenv("MESHFED_ETCD_ENDPOINTS")),
		EtcdCAFile:        getenv("MESHFED_ETCD_CA_FILE"),
		EtcdCertFile:      getenv("MESHFED_ETCD_CERT_FILE"),
		EtcdKeyFile:       getenv("MESHFED_ETCD_KEY_FILE"),
		EtcdUsername:      getenv("MESHFED_ETCD_USERNAME"),
		EtcdPasswordFile:  getenv("MESHFED_ETCD_PASSWORD_FILE"),
		ListenHost:        "0.0.0.0",
		AdminAddr:         ":15021",
		ConnectTimeout:    waypoint.DefaultConnectTimeout,
		Retries:           waypoint.DefaultRetries,
		CertFile:          getenv("MESHFED_CERT_FILE"),
		KeyFile:           getenv("MESHFED_KEY_FILE"),
		CAFile:            getenv("MESHFED_CA_FILE"),
		TrustDomain:       orDefault(getenv("MESHFED_TRUST_DOMAIN"), waypoint.DefaultTrustDomain),
		HBONEAddress:      orDefault(getenv("MESHFED_HBONE_ADDRESS"), DefaultHBONEAddress),
		HBONETransport:    orDefault(getenv("MESHFED_HBONE_TRANSPORT"), "h2"),
		AllowCallers:      getenv("MESHFED_ALLOW_CALLERS"),
		ShutdownDelay:     durationOr(getenv("MESHFED_SHUTDOWN_DELAY"), DefaultShutdownDelay),
		DrainTimeout:      durationOr(getenv("MESHFED_DRAIN_TIMEOUT"), DefaultDrainTimeout),
		HBONELimits: hbone.Limits{
			HandshakeTimeout: hbone.DefaultHandshakeTimeout, TunnelIdleTimeout: hbone.DefaultTunnelIdleTimeout,
			MaxConnections: hbone.DefaultMaxConnections, MaxConnectionsPerSource: hbone.DefaultMaxConnectionsPerSource,
			MaxHandshakesPerSource: hbone.DefaultMaxHandshakesPerSource,
			MaxTunnels:             hbone.DefaultMaxTunnels, MaxTunnelsPerSource: hbone.DefaultMaxTunnelsPerSource,
		},
	}
}

// GatewayNamespacesEnv is the environment variable of --gateway-namespaces; meshfedctl
// waypoint apply --gateway-namespaces sets it (its own constant of the same name and value).
const GatewayNamespacesEnv = "MESHFED_GATEWAY_NAMESPACES"

// AllNamespaces, as --gateway-namespaces, serves the namespaces the hub lists in the gateway's
// store record (the gateway Service's meshfed.io/gateway-namespaces "*": every namespace of the
// cluster without a waypoint of its own), following the record as they come and go.
const AllNamespaces = "*"

// DefaultHBONEAddress is the inbound HBONE port of DESIGN §5.
const DefaultHBONEAddress = ":15008"

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// durationOr parses v, or returns def when v is empty. A value that does not parse is kept
// as -1 so that Validate reports it rather than a default silently taking its place.
func durationOr(v string, def time.Duration) time.Duration {
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return -1
	}
	return d
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// AddFlags registers every option as a flag.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "namespace this waypoint serves; with --gateway-namespaces, the namespace the shared gateway runs in ($POD_NAMESPACE)")
	fs.StringSliceVar(&o.GatewayNamespaces, "gateway-namespaces", o.GatewayNamespaces, "run as the cluster's shared gateway (ServiceAccount meshfed-gateway of --namespace) serving these namespaces, comma separated, "+
		"or '*' for those the gateway's store record /meshfed/v1/gateways/<cluster>/<namespace> lists, started and drained (--shutdown-delay, --drain-timeout) as the hub adds and removes them "+
		"(not ready until the record has been read): per namespace its own store watch (one store client scoped to its prefix), listeners and inbound policy, one HBONE address for all; "+
		"the certificate must be spiffe://<trust-domain>/ns/<namespace>/sa/meshfed-gateway ($"+GatewayNamespacesEnv+")")
	fs.StringVar(&o.Cluster, "cluster", o.Cluster, "member cluster the waypoint runs in ($MESHFED_CLUSTER)")
	fs.StringVar(&o.Network, "network", o.Network, "network of the waypoint's cluster ($MESHFED_NETWORK)")
	fs.StringVar(&o.Region, "region", o.Region, "region of the waypoint's node ($MESHFED_REGION)")
	fs.StringVar(&o.Zone, "zone", o.Zone, "zone of the waypoint's node ($MESHFED_ZONE)")
	fs.StringVar(&o.Subzone, "subzone", o.Subzone, "subzone of the waypoint's node ($MESHFED_SUBZONE)")
	fs.StringVar(&o.Node, "node", o.Node, "name of the waypoint's node ($NODE_NAME); region, zone and subzone not given are read from its labels")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "kubeconfig for reading the Node (default: in-cluster when in a pod, else the Node is not read)")
	fs.StringSliceVar(&o.EtcdEndpoints, "etcd-endpoints", o.EtcdEndpoints, "federation store client URLs ($MESHFED_ETCD_ENDPOINTS, comma separated)")
	fs.StringVar(&o.EtcdCAFile, "etcd-ca-file", o.EtcdCAFile, "CA bundle verifying the store ($MESHFED_ETCD_CA_FILE)")
	fs.StringVar(&o.EtcdCertFile, "etcd-cert-file", o.EtcdCertFile, "client certificate for the store ($MESHFED_ETCD_CERT_FILE)")
	fs.StringVar(&o.EtcdKeyFile, "etcd-key-file", o.EtcdKeyFile, "client key for the store ($MESHFED_ETCD_KEY_FILE)")
	fs.StringVar(&o.EtcdUsername, "etcd-username", o.EtcdUsername, "etcd user to log in as with --etcd-password-file, instead of the client certificate's Common Name ($MESHFED_ETCD_USERNAME)")
	fs.StringVar(&o.EtcdPasswordFile, "etcd-password-file", o.EtcdPasswordFile, "file holding the password of --etcd-username; https endpoints only ($MESHFED_ETCD_PASSWORD_FILE)")
	fs.StringVar(&o.ListenHost, "listen-host", o.ListenHost, "address the outbound listeners bind to")
	fs.StringVar(&o.AdminAddr, "admin-address", o.AdminAddr, "address of /healthz, /readyz and /debug/endpoints; 0 disables")
	fs.BoolVar(&o.Profiling, "profiling", o.Profiling, "serve Go's CPU, heap and goroutine profiles under /debug/pprof/ on --admin-address")
	fs.DurationVar(&o.ConnectTimeout, "connect-timeout", o.ConnectTimeout, "timeout of one connect attempt")
	fs.IntVar(&o.Retries, "retries", o.Retries, "connect retries on another endpoint; negative disables")
	fs.StringVar(&o.CertFile, "cert-file", o.CertFile, "the waypoint's SPIFFE certificate (PEM), reloaded on change; without certificate files HBONE is off and only same-network endpoints are routed ($MESHFED_CERT_FILE)")
	fs.StringVar(&o.KeyFile, "key-file", o.KeyFile, "private key of --cert-file ($MESHFED_KEY_FILE)")
	fs.StringVar(&o.CAFile, "ca-file", o.CAFile, "trust bundle that peers' and callers' certificates chain to ($MESHFED_CA_FILE)")
	fs.StringVar(&o.TrustDomain, "trust-domain", o.TrustDomain, "SPIFFE trust domain of the certificate, peers and callers; peer waypoints must be spiffe://<trust-domain>/ns/<namespace>/sa/meshfed-waypoint ($MESHFED_TRUST_DOMAIN)")
	fs.StringVar(&o.HBONEAddress, "hbone-address", o.HBONEAddress, "address of the inbound HBONE server, TCP (HTTP/2) and UDP (HTTP/3) on the same port; 0 or empty disables inbound ($MESHFED_HBONE_ADDRESS)")
	fs.StringVar(&o.HBONETransport, "hbone-transport", o.HBONETransport, "transport of outbound tunnels: h2, or h3 (falls back to h2 when QUIC fails) ($MESHFED_HBONE_TRANSPORT)")
	fs.StringVar(&o.AllowCallers, "allow-callers", o.AllowCallers, "comma-separated SPIFFE IDs allowed to open inbound tunnels, replacing the default (this namespace's meshfed-waypoint in --trust-domain, and the shared gateway the store's waypoints record of the caller's cluster names for this namespace) ($MESHFED_ALLOW_CALLERS)")
	fs.DurationVar(&o.ShutdownDelay, "shutdown-delay", o.ShutdownDelay, "on SIGTERM, how long /readyz fails while the listeners keep accepting, for Services and peers to stop sending new connections ($MESHFED_SHUTDOWN_DELAY)")
	fs.DurationVar(&o.DrainTimeout, "drain-timeout", o.DrainTimeout, "then, with the listeners closed, how long requests, connections and tunnels in flight get to finish before the rest is closed ($MESHFED_DRAIN_TIMEOUT)")
	l := &o.HBONELimits
	fs.DurationVar(&l.HandshakeTimeout, "hbone-handshake-timeout", l.HandshakeTimeout, "inbound HBONE connections that have not completed their TLS (or QUIC) handshake by then are closed")
	fs.DurationVar(&l.TunnelIdleTimeout, "hbone-tunnel-idle-timeout", l.TunnelIdleTimeout, "inbound tunnels through which no byte passed, in either direction, for that long are closed")
	fs.IntVar(&l.MaxConnections, "hbone-max-connections", l.MaxConnections, "inbound HBONE connections (TCP and QUIC) open at once; more are refused")
	fs.IntVar(&l.MaxConnectionsPerSource, "hbone-max-connections-per-source", l.MaxConnectionsPerSource, "inbound HBONE connections open at once from one source (an IPv4 address or IPv6 /64)")
	fs.IntVar(&l.MaxHandshakesPerSource, "hbone-max-handshakes-per-source", l.MaxHandshakesPerSource, "inbound HBONE connections of one source still in their handshake; more are refused, so idle or slow connections cannot starve other callers")
	fs.IntVar(&l.MaxTunnels, "hbone-max-tunnels", l.MaxTunnels, "inbound tunnels open at once; more are answered 503 tunnel-limit")
	fs.IntVar(&l.MaxTunnelsPerSource, "hbone-max-tunnels-per-source", l.MaxTunnelsPerSource, "inbound tunnels open at once from one source")
	fs.BoolVar(&o.AllowLoopbackEndpoints, "allow-loopback-endpoints", o.AllowLoopbackEndpoints, "dial endpoints on loopback addresses, for labs that run every endpoint on one host; "+
		"without it the waypoint refuses endpoints on loopback, link-local, unspecified, multicast or its own addresses whatever the store says")
}

// Validate checks that the waypoint knows where it is and where the store is.
func (o *Options) Validate() error {
	var errs []error
	required := []struct {
		flag, env string
		set       bool
	}{
		{"namespace", "POD_NAMESPACE", o.Namespace != ""},
		{"cluster", "MESHFED_CLUSTER", o.Cluster != ""},
		{"network", "MESHFED_NETWORK", o.Network != ""},
		{"etcd-endpoints", "MESHFED_ETCD_ENDPOINTS", len(o.EtcdEndpoints) > 0},
	}
	for _, r := range required {
		if !r.set {
			errs = append(errs, fmt.Errorf("missing --%s (or $%s)", r.flag, r.env))
		}
	}
	if (o.EtcdCertFile == "") != (o.EtcdKeyFile == "") {
		errs = append(errs, errors.New("--etcd-cert-file and --etcd-key-file go together"))
	}
	if (o.EtcdUsername == "") != (o.EtcdPasswordFile == "") {
		errs = append(errs, errors.New("--etcd-username and --etcd-password-file go together"))
	}
	if n := countSet(o.CertFile, o.KeyFile, o.CAFile); n != 0 && n != 3 {
		errs = append(errs, errors.New("--cert-file, --key-file and --ca-file go together"))
	}
	if o.ShutdownDelay < 0 || o.DrainTimeout < 0 {
		errs = append(errs, errors.New("--shutdown-delay and --drain-timeout ($MESHFED_SHUTDOWN_DELAY, $MESHFED_DRAIN_TIMEOUT) must be durations, not negative"))
	}
	if _, err := parseTransport(o.HBONETransport); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseCallers(o.AllowCallers); err != nil {
		errs = append(errs, err)
	}
	if err := validateGatewayNamespaces(o.GatewayNamespaces); err != nil {
		errs = append(errs, err)
	}
	if l := o.HBONELimits; l.HandshakeTimeout < 0 || l.TunnelIdleTimeout < 0 || l.MaxConnections < 0 || l.MaxConnectionsPerSource < 0 || l.MaxHandshakesPerSource < 0 ||
		l.MaxTunnels < 0 || l.MaxTunnelsPerSource < 0 {
		errs = append(errs, errors.New("--hbone-* limits must not be negative (0 takes the default)"))
	}
	return errors.Join(errs...)
}

func countSet(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}

// validateGatewayNamespaces checks --gateway-namespaces: namespace names (DNS-1123 labels),
// each once, or AllNamespaces alone.
func validateGatewayNamespaces(namespaces []string) error {
	seen := make(map[string]bool, len(namespaces))
	var errs []string
	for _, ns := range namespaces {
		switch {
		case ns == AllNamespaces && len(namespaces) > 1:
			errs = append(errs, fmt.Sprintf("%q goes alone", AllNamespaces))
		case ns == AllNamespaces:
		case ns == "":
			errs = append(errs, "empty entry")
		case !wellknown.IsDNSLabel(ns):
			errs = append(errs, fmt.Sprintf("%q is not a namespace name", ns))
		case seen[ns]:
			errs = append(errs, fmt.Sprintf("%q twice", ns))
		}
		seen[ns] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid --gateway-namespaces ($%s): %s", GatewayNamespacesEnv, strings.Join(errs, "; "))
	}
	return nil
}

// gateway reports whether the binary runs as a shared gateway.
func (o *Options) gateway() bool { return len(o.GatewayNamespaces) > 0 }

// followRecord reports whether the shared gateway serves what its store record lists.
func (o *Options) followRecord() bool {
	return len(o.GatewayNamespaces) == 1 && o.GatewayNamespaces[0] == AllNamespaces
}

// hboneEnabled reports whether certificate files are configured.
func (o *Options) hboneEnabled() bool { return o.CertFile != "" }

// inboundAddress is the HBONE listen address, "" when inbound is disabled.
func (o *Options) inboundAddress() string {
	if o.HBONEAddress == "0" {
		return ""
	}
	return o.HBONEAddress
}
