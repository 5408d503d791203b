package app

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/spf13/pflag"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/dns/probe"
	"github.com/meshfed/meshfed/federation/dns/server"
	"github.com/meshfed/meshfed/federation/dns/source"
	"github.com/meshfed/meshfed/federation/dns/zone"
)

// Options configure meshfed-dns.
type Options struct {
	// ListenAddress is where DNS is served, UDP and TCP on the same port.
	ListenAddress string
	// AdminAddress serves /healthz, /readyz and /metrics; "0" disables.
	AdminAddress string
	// Kubeconfig reads the cluster's ServiceImports; empty means in-cluster.
	Kubeconfig string
	// TTL of every record and of negative answers, in whole seconds.
	TTL time.Duration
	// Zones are served even before any ServiceImport names them; the segment domains of the
	// ServiceImports' hostnames and clusterset.local are served in any case.
	Zones []string
	// ClusterDomain is the cluster's DNS domain, where takeover names live.
	ClusterDomain string
	// MaxTCPConnections bounds open DNS-over-TCP connections.
	MaxTCPConnections int
	// ShutdownDelay keeps answering after SIGTERM, with /readyz failing, so that clients move
	// to the other replica before this one stops.
	ShutdownDelay time.Duration
	// ReleaseGrace is how long a cluster-local name whose takeover ended is answered with the
	// cluster's own Service; 0 turns that off.
	ReleaseGrace time.Duration
	// TakeoverProbe is the cluster's DNS (host:port) that meshfed-dns asks for every name it
	// takes over, to record which ones clients already reach through it; "" reads the first
	// nameserver of /etc/resolv.conf, "none" turns the check off.
	TakeoverProbe string
	// TakeoverProbeInterval is the time between two checks.
	TakeoverProbeInterval time.Duration
}

// DefaultOptions are the options without flags.
func DefaultOptions() Options {
	return Options{
		ListenAddress:         ":5353",
		AdminAddress:          ":8080",
		TTL:                   zone.DefaultTTL * time.Second,
		Zones:                 []string{wellknown.DefaultSegmentDomain},
		ClusterDomain:         wellknown.DefaultClusterDomain,
		MaxTCPConnections:     server.DefaultMaxTCPConnections,
		ShutdownDelay:         5 * time.Second,
		ReleaseGrace:          source.DefaultReleaseGrace,
		TakeoverProbeInterval: 5 * time.Second,
	}
}

// AddFlags registers every option as a flag.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ListenAddress, "listen-address", o.ListenAddress, "address DNS is served on, UDP and TCP")
	fs.StringVar(&o.AdminAddress, "admin-address", o.AdminAddress, "address of /healthz, /readyz and /metrics; 0 disables")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "kubeconfig of the cluster whose ServiceImports are served (default: in-cluster)")
	fs.DurationVar(&o.TTL, "ttl", o.TTL, "TTL of the records and of negative answers, whole seconds")
	fs.StringSliceVar(&o.Zones, "zone", o.Zones, "zone served even before a ServiceImport names it (repeatable); the segment domains of the ServiceImports' meshfed.io/hostname and clusterset.local are served in any case")
	fs.StringVar(&o.ClusterDomain, "cluster-domain", o.ClusterDomain, "the cluster's DNS domain, where takeover names <name>.<ns>.svc.<domain> live")
	fs.IntVar(&o.MaxTCPConnections, "max-tcp-connections", o.MaxTCPConnections, "open DNS-over-TCP connections at most; more wait to be accepted")
	fs.DurationVar(&o.ShutdownDelay, "shutdown-delay", o.ShutdownDelay, "how long to keep answering after SIGTERM, with /readyz failing")
	fs.StringVar(&o.TakeoverProbe, "takeover-probe", o.TakeoverProbe, "the cluster's DNS (host:port) asked for every taken-over name, to record in ConfigMap "+wellknown.SystemNamespace+"/"+wellknown.DNSTakeoverConfigMap+" the names it already answers as meshfed-dns does (the hub reports a takeover active only then); default: the first nameserver of /etc/resolv.conf; none: off")
	fs.DurationVar(&o.TakeoverProbeInterval, "takeover-probe-interval", o.TakeoverProbeInterval, "time between two takeover checks")
	fs.DurationVar(&o.ReleaseGrace, "takeover-release-grace", o.ReleaseGrace, "how long a cluster-local name whose takeover ended is answered with the cluster's own Service, while the cluster's CoreDNS may still forward it here (kubelet's ConfigMap sync plus CoreDNS's reload); 0 turns it off")
}

// maxTTL bounds --ttl: names of global services change with the federation, so caching them
// for long defeats failover and takeover.
const maxTTL = time.Hour

// maxReleaseGrace bounds --takeover-release-grace: a released name answered longer than this
// would outlive any CoreDNS reload by far, and hide a Service changed meanwhile.
const maxReleaseGrace = 30 * time.Minute

// Validate checks the options.
func (o *Options) Validate() error {
	var errs []error
	if o.ListenAddress == "" {
		errs = append(errs, errors.New("--listen-address is required"))
	}
	if o.TTL < time.Second || o.TTL > maxTTL || o.TTL%time.Second != 0 {
		errs = append(errs, fmt.Errorf("--ttl %s: want whole seconds from 1s to %s", o.TTL, maxTTL))
	}
	if o.MaxTCPConnections < 1 {
		errs = append(errs, errors.New("--max-tcp-connections must be at least 1"))
	}
	if o.ShutdownDelay < 0 {
		errs = append(errs, errors.New("--shutdown-delay must not be negative"))
	}
	if o.ReleaseGrace < 0 || o.ReleaseGrace > maxReleaseGrace {
		errs = append(errs, fmt.Errorf("--takeover-release-grace %s: want 0 to %s", o.ReleaseGrace, maxReleaseGrace))
	}
	if o.TakeoverProbeInterval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("--takeover-probe-interval %s: want at least 100ms", o.TakeoverProbeInterval))
	}
	if p := o.TakeoverProbe; p != "" && p != probeOff {
		if _, _, err := net.SplitHostPort(p); err != nil {
			errs = append(errs, fmt.Errorf("--takeover-probe %q: want host:port, or none: %w", p, err))
		}
	}
	if err := o.zoneOptions().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (o *Options) zoneOptions() zone.Options {
	return zone.Options{TTL: uint32(o.TTL / time.Second), ClusterDomain: o.ClusterDomain, Zones: o.Zones}
}

// probeOff is the --takeover-probe value that turns the takeover check off.
const probeOff = "none"

// takeoverProbe returns the resolver the takeover check asks, "" when it is off.
func (o *Options) takeoverProbe() (string, error) {
	switch o.TakeoverProbe {
	case probeOff:
		return "", nil
	case "":
		return probe.ResolverFromFile("/etc/resolv.conf")
	}
	return o.TakeoverProbe, nil
}

// releaseGrace is ReleaseGrace as source.Options take it (negative: off).
func (o *Options) releaseGrace() time.Duration {
	if o.ReleaseGrace == 0 {
		return -1
	}
	return o.ReleaseGrace
}
