package waypoint

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
	"github.com/meshfed/meshfed/waypoint/balance"
	"github.com/meshfed/meshfed/waypoint/table"
)

// Defaults of Options.
const (
	// DefaultListenHost is the address the outbound listeners bind to.
	DefaultListenHost = "0.0.0.0"
	// DefaultConnectTimeout bounds one connect attempt to an endpoint.
	DefaultConnectTimeout = 2 * time.Second
	// DefaultRetries is how many times a failed connect is retried on another endpoint.
	DefaultRetries = 2
	// DefaultPerTryTimeout bounds one try of an HTTP request until its response headers.
	DefaultPerTryTimeout = 15 * time.Second
)

// Options configure a waypoint. The zero value of every optional field means its default.
type Options struct {
	// Namespace is the namespace this waypoint serves; it watches only that namespace's keys.
	Namespace string
	// Cluster is the member cluster the waypoint runs in: it addresses a service's endpoints
	// only where the service's Imports list this cluster, and only from the clusters listed.
	Cluster string
	// Locality is where the waypoint runs; tiers are computed from its point of view.
	// Locality.Cluster is set from Cluster when empty.
	Locality model.Locality
	// Labels are the waypoint's own labels, for failover-priority keys outside Locality.
	Labels map[string]string
	// ListenHost is the address outbound listeners bind to; default DefaultListenHost.
	ListenHost string
	// ConnectTimeout bounds each connect attempt; default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Retries is how many times a failed connect is retried on a different endpoint; 0 means
	// DefaultRetries, negative disables retries.
	Retries int
	// PerTryTimeout bounds each try of a request on a per-request (HTTP) route, from the pick
	// until the response headers arrive; the body then streams unbounded. The timeout fires
	// up to 10 ms late (coarse.Tick). 0 means DefaultPerTryTimeout, negative disables it.
	PerTryTimeout time.Duration
	// Outlier configures outlier detection of connect failures.
	Outlier balance.OutlierOptions
	// Load tunes the load split across tiers (Envoy's defaults when zero); a service's load
	// policy (meshfed.io/overprovisioning-factor, meshfed.io/panic-threshold) replaces each
	// setting it sets, for that service.
	Load priority.LoadOptions
	// HBONE configures cross-network tunnels and the inbound server; off when its Identity is nil.
	HBONE HBONEOptions
	// AllowLoopbackEndpoints lets the waypoint dial endpoints on loopback addresses, for labs
	// and tests that run every endpoint on one host. Off, a loopback endpoint is refused like
	// one that is link-local, unspecified, multicast or one of the host's own addresses.
	AllowLoopbackEndpoints bool
	// Drain is what Run does when its context ends; the zero value closes everything at once.
	Drain DrainOptions
	// Seed seeds endpoint picking; 0 means a seed from the current time.
	Seed uint64
	// Clock tells the time for outlier detection; nil means the system clock.
	Clock table.Clock
	// Logger receives state changes and warnings; nil means slog.Default().
	Logger *slog.Logger
}

// errMissingOption is wrapped by Validate's errors.
var errMissingOption = errors.New("required option missing")

// Validate checks the options that have no default.
func (o *Options) Validate() error {
	if o.Namespace == "" {
		return fmt.Errorf("failed to validate option namespace: %w", errMissingOption)
	}
	if o.Cluster == "" {
		return fmt.Errorf("failed to validate option cluster: %w", errMissingOption)
	}
	if o.Locality.Cluster != "" && o.Locality.Cluster != o.Cluster {
		return fmt.Errorf("failed to validate option locality %s: cluster differs from %s", o.Locality.Cluster, o.Cluster)
	}
	if err := o.HBONE.validate(o.Namespace, o.Cluster); err != nil {
		return err
	}
	if err := o.Drain.Validate(); err != nil {
		return err
	}
	return o.Outlier.Validate()
}

// withDefaults returns a copy with every default applied.
func (o Options) withDefaults() Options {
	if o.Locality.Cluster == "" {
		o.Locality.Cluster = o.Cluster
	}
	if o.ListenHost == "" {
		o.ListenHost = DefaultListenHost
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	switch {
	case o.PerTryTimeout == 0:
		o.PerTryTimeout = DefaultPerTryTimeout
	case o.PerTryTimeout < 0:
		o.PerTryTimeout = 0
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.Clock == nil {
		o.Clock = table.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Outlier = o.Outlier.WithDefaults()
	return o
}

// tableOptions are the options of the waypoint's endpoint table; o has its defaults.
func (o *Options) tableOptions() table.Options {
	t := table.Options{
		Namespace: o.Namespace, Cluster: o.Cluster, Locality: o.Locality, Labels: o.Labels,
		Load: o.Load, Outlier: o.Outlier, Tunnels: o.HBONE.Enabled(), CrossNetwork: crossNetworkMode(&o.HBONE),
		Clock: o.Clock, Logger: o.Logger,
	}
	if t.Tunnels {
		t.WaypointID = o.HBONE.peerID(o.Namespace).String()
	}
	return t
}

// NewTable returns the endpoint table of a waypoint with opts, empty and not yet ready; it does
// no I/O. opts must be valid.
func NewTable(opts Options) *table.Table {
	opts = opts.withDefaults()
	return table.NewTable(opts.tableOptions())
}
