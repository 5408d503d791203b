package app

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/controller"
	"github.com/meshfed/meshfed/federation/writeback"
)

// Options configure the hub.
type Options struct {
	// Kubeconfig of the hub cluster; empty means in-cluster or $KUBECONFIG.
	Kubeconfig string
	// Namespace holds member Secrets and the leader-election Lease.
	Namespace string
	// DataDir is the embedded etcd's data directory (when EtcdEndpoints is empty).
	DataDir string
	// EmbeddedClientURL is where the embedded etcd serves clients (waypoints read it).
	EmbeddedClientURL string
	// EmbeddedPeerURL is the embedded etcd's peer URL.
	EmbeddedPeerURL string
	// EmbeddedStopWait bounds the wait for the embedded etcd to stop when the hub exits; 0
	// waits until it stopped (etcd lets open watches run for up to 7 s first).
	EmbeddedStopWait time.Duration
	// EmbeddedInsecure serves the embedded etcd over plain HTTP without authentication (labs
	// only); by default it serves mutual TLS with etcd auth on, from certificates of CASecret.
	EmbeddedInsecure bool
	// EmbeddedSANs are extra names (DNS names or IPs) of the embedded etcd's certificate, beyond
	// loopback and the hub Service.
	EmbeddedSANs []string
	// CASecret names the Secret in Namespace that holds the hub's CA (tls.crt, tls.key); the hub
	// creates it at first start when it does not exist.
	CASecret string
	// TrustDomain is the SPIFFE trust domain of the HBONE certificates the hub issues.
	TrustDomain string
	// WaypointCertValidity is the lifetime of the certificates the hub issues to waypoints
	// (store client and HBONE); they are renewed once WaypointCertRenewPercent of it has passed.
	WaypointCertValidity     time.Duration
	WaypointCertRenewPercent int
	// WaypointUserGrace is how long a waypoint's etcd user outlives its waypoints record.
	WaypointUserGrace time.Duration
	// EtcdEndpoints point at an external etcd cluster instead of the embedded one.
	EtcdEndpoints    []string
	EtcdCAFile       string
	EtcdCertFile     string
	EtcdKeyFile      string
	EtcdUsername     string
	EtcdPasswordFile string
	// StaleGrace is how long an unreachable member's endpoints are kept, marked stale.
	StaleGrace time.Duration
	// ProbeInterval is how often each member's API server is probed.
	ProbeInterval time.Duration
	// WaypointPorts is the waypoint listener port range, "first-last".
	WaypointPorts string
	// Resync bounds the time between two federation passes.
	Resync time.Duration
	// LeaderElection runs the reconcilers on one replica only.
	LeaderElection bool
	// LeaseDuration, RenewDeadline and RetryPeriod tune the Lease election (client-go's
	// meanings). LeaseDuration also sets the TTL of the store writer's etcd session, so a
	// crashed leader's store fence expires when its Lease does.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Identity names this replica (the pod name) in the Lease and the store's leader key.
	Identity string
	// MCSEndpointSlices says which imported services get MCS EndpointSlices in importing
	// members: all, headless or none.
	MCSEndpointSlices string
	// MetricsAddr and HealthAddr are the listen addresses; "0" disables.
	MetricsAddr string
	HealthAddr  string
}

// DefaultOptions are the documented defaults.
func DefaultOptions() Options {
	host, _ := os.Hostname()
	return Options{
		Namespace:                wellknown.SystemNamespace,
		DataDir:                  "/var/lib/meshfed/etcd",
		EmbeddedClientURL:        "https://127.0.0.1:2379",
		EmbeddedStopWait:         time.Second,
		CASecret:                 wellknown.StoreCASecret,
		TrustDomain:              "cluster.local",
		WaypointCertValidity:     24 * time.Hour,
		WaypointCertRenewPercent: 67,
		WaypointUserGrace:        5 * time.Minute,
		EmbeddedPeerURL:          "http://127.0.0.1:2380",
		StaleGrace:               10 * time.Minute,
		ProbeInterval:            5 * time.Second,
		WaypointPorts:            "20000-29999",
		Resync:                   30 * time.Second,
		LeaderElection:           true,
		LeaseDuration:            15 * time.Second,
		RenewDeadline:            10 * time.Second,
		RetryPeriod:              2 * time.Second,
		Identity:                 host,
		MCSEndpointSlices:        string(writeback.SlicesHeadless),
		MetricsAddr:              ":8080",
		HealthAddr:               ":8081",
	}
}

// AddFlags registers every option as a flag.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "kubeconfig of the hub cluster (default: $KUBECONFIG, else the pod's service account in a cluster, else ~/.kube/config)")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "hub namespace of member Secrets and the leader Lease; it must exist")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "data directory of the embedded etcd")
	fs.StringVar(&o.EmbeddedClientURL, "embedded-etcd-client-url", o.EmbeddedClientURL, "client URL of the embedded etcd")
	fs.StringVar(&o.EmbeddedPeerURL, "embedded-etcd-peer-url", o.EmbeddedPeerURL, "peer URL of the embedded etcd")
	fs.DurationVar(&o.EmbeddedStopWait, "embedded-etcd-stop-wait", o.EmbeddedStopWait, "how long the exiting hub waits for its embedded etcd to stop before it exits anyway "+
		"(etcd would let the waypoints' watches run for 7 s, delaying the successor; an exit before it stopped is a crash to etcd, which recovers from its log); 0 waits until it stopped")
	fs.BoolVar(&o.EmbeddedInsecure, "embedded-etcd-insecure", o.EmbeddedInsecure, "serve the embedded etcd over plain HTTP without authentication, for labs only (the client URL must then be http://); "+
		"by default it serves mutual TLS with etcd users and roles, from certificates issued by the CA of --ca-secret")
	fs.StringSliceVar(&o.EmbeddedSANs, "embedded-etcd-san", o.EmbeddedSANs, "extra DNS name or IP address of the embedded etcd's serving certificate (repeatable); "+
		"localhost, 127.0.0.1, ::1 and meshfed-hub.<namespace>.svc[.cluster.local] are always included")
	fs.StringVar(&o.CASecret, "ca-secret", o.CASecret, "Secret in --namespace holding the hub's CA (tls.crt, tls.key, e.g. from cert-manager); created at first start when missing")
	fs.StringVar(&o.TrustDomain, "trust-domain", o.TrustDomain, "SPIFFE trust domain of the HBONE certificates the hub issues (spiffe://<trust-domain>/ns/<namespace>/sa/meshfed-waypoint, and sa/meshfed-gateway for a shared gateway, whose records name it); the waypoints' --trust-domain")
	fs.DurationVar(&o.WaypointCertValidity, "waypoint-cert-validity", o.WaypointCertValidity, "lifetime of the store client and HBONE certificates the hub issues into each member for each waypoint (embedded store)")
	fs.IntVar(&o.WaypointCertRenewPercent, "waypoint-cert-renew-percent", o.WaypointCertRenewPercent, "renew a waypoint certificate once this percentage of its lifetime has passed (1-99); the rest is the time the new one has to reach the waypoint")
	fs.DurationVar(&o.WaypointUserGrace, "waypoint-user-grace", o.WaypointUserGrace, "how long a waypoint's etcd user is kept after its waypoint is no longer published, before it and its namespace's role (with the last user) are deleted")
	fs.StringSliceVar(&o.EtcdEndpoints, "etcd-endpoints", o.EtcdEndpoints, "external etcd endpoints; the embedded etcd is not started when set")
	fs.StringVar(&o.EtcdCAFile, "etcd-ca-file", o.EtcdCAFile, "CA bundle verifying the external etcd")
	fs.StringVar(&o.EtcdCertFile, "etcd-cert-file", o.EtcdCertFile, "client certificate for the external etcd")
	fs.StringVar(&o.EtcdKeyFile, "etcd-key-file", o.EtcdKeyFile, "client key for the external etcd")
	fs.StringVar(&o.EtcdUsername, "etcd-username", o.EtcdUsername, "etcd user for the external etcd, with --etcd-password-file, instead of the client certificate's Common Name")
	fs.StringVar(&o.EtcdPasswordFile, "etcd-password-file", o.EtcdPasswordFile, "file holding the password of --etcd-username; https endpoints only")
	fs.DurationVar(&o.StaleGrace, "stale-grace", o.StaleGrace, "how long an unreachable member's endpoints are kept (marked stale) before they are withdrawn")
	fs.DurationVar(&o.ProbeInterval, "probe-interval", o.ProbeInterval, "how often each member API server is probed")
	fs.StringVar(&o.WaypointPorts, "waypoint-ports", o.WaypointPorts, "waypoint listener port range, first-last")
	fs.DurationVar(&o.Resync, "resync", o.Resync, "longest time between two federation passes")
	fs.BoolVar(&o.LeaderElection, "leader-elect", o.LeaderElection, "elect a leader among replicas (Lease)")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration, "how long a non-leader waits before taking over an unrenewed Lease; also the store fence's TTL")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline, "how long the leader retries renewing the Lease before giving up leadership")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod, "how often candidates try to acquire or renew the Lease")
	fs.StringVar(&o.Identity, "identity", o.Identity, "name of this replica (default: host name)")
	fs.StringVar(&o.MCSEndpointSlices, "mcs-endpointslices", o.MCSEndpointSlices, "which imported services get MCS EndpointSlices (labeled multicluster.kubernetes.io/service-name and /source-cluster) in every importing member: "+
		"all (what MCS consumers and the conformance suite's EndpointSlice spec expect; it costs hub CPU on every change of a large service in every importing member, see the hub's README), "+
		"headless (only Headless imports, whose DNS names need them) or none (and those written before are removed)")
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr, "Prometheus metrics address; 0 disables")
	fs.StringVar(&o.HealthAddr, "health-probe-bind-address", o.HealthAddr, "/healthz and /readyz address; 0 disables")
}

// Validate checks the options hold together.
func (o *Options) Validate() error {
	var errs []error
	if _, err := o.PortRange(); err != nil {
		errs = append(errs, err)
	}
	if o.StaleGrace <= 0 || o.ProbeInterval <= 0 || o.Resync <= 0 {
		errs = append(errs, errors.New("--stale-grace, --probe-interval and --resync must be positive"))
	}
	if o.RetryPeriod <= 0 || o.RenewDeadline <= o.RetryPeriod || o.LeaseDuration <= o.RenewDeadline || o.LeaseDuration < time.Second {
		errs = append(errs, errors.New("want 0 < --leader-elect-retry-period < --leader-elect-renew-deadline < --leader-elect-lease-duration, and a lease of at least 1s"))
	}
	if o.EmbeddedStopWait < 0 {
		errs = append(errs, errors.New("--embedded-etcd-stop-wait must not be negative"))
	}
	if o.embeddedStore() && o.DataDir == "" {
		errs = append(errs, errors.New("--data-dir is required for the embedded etcd"))
	}
	if (o.EtcdCertFile == "") != (o.EtcdKeyFile == "") {
		errs = append(errs, errors.New("--etcd-cert-file and --etcd-key-file go together"))
	}
	if (o.EtcdUsername == "") != (o.EtcdPasswordFile == "") {
		errs = append(errs, errors.New("--etcd-username and --etcd-password-file go together"))
	}
	if len(o.EtcdEndpoints) == 0 && o.EmbeddedInsecure == strings.HasPrefix(o.EmbeddedClientURL, "https://") {
		errs = append(errs, fmt.Errorf("--embedded-etcd-client-url %s: want https:// (or http:// with --embedded-etcd-insecure)", o.EmbeddedClientURL))
	}
	if len(o.EtcdEndpoints) == 0 && !o.EmbeddedInsecure && o.CASecret == "" {
		errs = append(errs, errors.New("--ca-secret must not be empty"))
	}
	if o.WaypointCertValidity < time.Second || o.WaypointCertRenewPercent < 1 || o.WaypointCertRenewPercent > 99 || o.WaypointUserGrace < 0 {
		errs = append(errs, errors.New("want --waypoint-cert-validity of at least 1s, --waypoint-cert-renew-percent from 1 to 99 and a --waypoint-user-grace of at least 0"))
	}
	if _, err := writeback.ParseSliceMode(o.MCSEndpointSlices); err != nil {
		errs = append(errs, fmt.Errorf("--mcs-endpointslices: %w", err))
	}
	if err := validateTrustDomain(o.TrustDomain); err != nil {
		errs = append(errs, err)
	}
	if o.Namespace == "" || o.Identity == "" {
		errs = append(errs, errors.New("--namespace and --identity must not be empty"))
	}
	return errors.Join(errs...)
}

// waypointRenewBefore is how much of a waypoint certificate's lifetime is left when it is renewed.
func (o *Options) waypointRenewBefore() time.Duration {
	return o.WaypointCertValidity * time.Duration(100-o.WaypointCertRenewPercent) / 100
}

// embeddedStore reports whether the hub runs its own etcd (no external endpoints).
func (o *Options) embeddedStore() bool { return len(o.EtcdEndpoints) == 0 }

// leaseTiming is the Lease election's timing.
func (o *Options) leaseTiming() leaseTiming {
	return leaseTiming{Duration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod}
}

// PortRange parses WaypointPorts.
func (o *Options) PortRange() (controller.PortRange, error) {
	first, last, ok := strings.Cut(o.WaypointPorts, "-")
	f, ferr := strconv.ParseInt(first, 10, 32)
	l, lerr := strconv.ParseInt(last, 10, 32)
	if !ok || ferr != nil || lerr != nil {
		return controller.PortRange{}, fmt.Errorf("invalid --waypoint-ports %q: want first-last", o.WaypointPorts)
	}
	r := controller.PortRange{First: int32(f), Last: int32(l)}
	return r, r.Validate()
}
