package table

import (
	"log/slog"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
	"github.com/meshfed/meshfed/waypoint/balance"
)

// Options say whose table it is: the waypoint's namespace, cluster and locality, and how it
// balances. The zero value of every optional field means its default.
type Options struct {
	// Namespace is the namespace the table follows; it watches only that namespace's keys.
	Namespace string
	// Cluster is the member cluster the waypoint runs in: it addresses a service's endpoints
	// only where the service's Imports list this cluster, and only from the clusters listed.
	Cluster string
	// Locality is where the waypoint runs; tiers are computed from its point of view.
	// Locality.Cluster is set from Cluster when empty.
	Locality model.Locality
	// Labels are the waypoint's own labels, for failover-priority keys outside Locality.
	Labels map[string]string
	// Load tunes the load split across tiers; a service's load policy replaces each setting
	// it sets, for that service.
	Load priority.LoadOptions
	// Outlier configures outlier detection; a service's outlier policy overrides it.
	Outlier balance.OutlierOptions
	// Tunnels says that endpoints on other networks can be reached through a waypoint of their
	// cluster (HBONE is on); off, they are skipped with SkipNoHBONE.
	Tunnels bool
	// WaypointID is the SPIFFE ID of the namespace's own waypoints, which the HBONE servers of a
	// cluster must present when its waypoints record names no Identity (a shared gateway's).
	WaypointID string
	// CrossNetwork describes, for Debug, how endpoints on other networks are reached.
	CrossNetwork string
	// Clock tells the time for outlier detection; nil means the system clock.
	Clock Clock
	// Logger receives state changes and warnings; nil means slog.Default().
	Logger *slog.Logger
}

// withDefaults returns a copy with every default applied.
func (o Options) withDefaults() Options {
	if o.Locality.Cluster == "" {
		o.Locality.Cluster = o.Cluster
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Outlier = o.Outlier.WithDefaults()
	return o
}

// Clock tells the time. Tests inject a manual clock so that ejections are deterministic.
type Clock interface {
	Now() time.Time
}

// SystemClock is the Clock of the running system.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }
