package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/meshfed/meshfed/federation/store"
)

// The member states of the members gauge.
const (
	memberStateReady     = "ready"
	memberStateStale     = "stale"
	memberStateWithdrawn = "withdrawn"
)

// The results of the federation passes counter.
const (
	passResultOK    = "ok"
	passResultError = "error"
)

// The hub's metrics, served by the manager's /metrics through controller-runtime's registry.
var (
	propagationSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "meshfed_hub_propagation_seconds",
		Help: "Time from a member EndpointSlice or Service change observed by the hub's informer " +
			"to the end of the store write of the first federation pass that includes it, per member.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12), // 5ms … ~10s
	})
	storeWrites = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "meshfed_hub_store_writes_total",
		Help: "Federation store keys the hub put or deleted (identical values are not rewritten).",
	})
	storeBytesWritten = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "meshfed_hub_store_bytes_written_total",
		Help: "Bytes the hub wrote to the federation store: key and value of puts, key of deletes.",
	})
	membersByState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "meshfed_hub_members",
		Help: "State of each connected member cluster as of the last federation pass: 1 for its state " +
			"(ready, stale, withdrawn), 0 for the others; sum by (state) counts members.",
	}, []string{"member", "state"})
	federationPasses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meshfed_hub_federation_passes_total",
		Help: "Federation passes by result (ok, error).",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(propagationSeconds, storeWrites, storeBytesWritten, membersByState, federationPasses)
	for _, r := range []string{passResultOK, passResultError} {
		federationPasses.WithLabelValues(r)
	}
}

// maxPending bounds the pending observations; under a storm of changes the oldest are dropped
// (their samples are lost, the histogram stays bounded).
const maxPending = 4096

// observe records that the informer of a member delivered obj at now, when obj is an
// EndpointSlice or Service, unless the registry is a standby's (another replica writes it).
func (m *Members) observe(obj any, now time.Time) {
	if !propagates(obj) || m.standby.Load() {
		return
	}
	m.pendingMu.Lock()
	defer m.pendingMu.Unlock()
	if len(m.pending) == maxPending {
		m.pending = m.pending[1:]
	}
	m.pending = append(m.pending, now)
}

// propagates reports whether obj (or the object of a missed delete) is a kind whose changes
// the propagation histogram follows.
func propagates(obj any) bool {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	switch obj.(type) {
	case *discoveryv1.EndpointSlice, *corev1.Service:
		return true
	default:
		return false
	}
}

// takeObserved removes and returns the pending observations made at or before t. The informer
// updates its cache before it calls the handlers, so a change observed before a pass finished
// reading the members' caches is in that pass's snapshots. One observed later may be in them
// too (its cache update came first); it stays pending and is sampled by the next pass, late by
// at most one pass, never merged with another change.
func (m *Members) takeObserved(t time.Time) []time.Time {
	m.pendingMu.Lock()
	defer m.pendingMu.Unlock()
	n := 0
	for n < len(m.pending) && !m.pending[n].After(t) {
		n++
	}
	out := m.pending[:n:n]
	m.pending = append([]time.Time(nil), m.pending[n:]...)
	return out
}

// passMetrics follows one federation pass.
type passMetrics struct {
	f        *Federation
	gathered time.Time
}

// beginPass starts following a pass.
func (f *Federation) beginPass() *passMetrics { return &passMetrics{f: f} }

// gatheredAll notes that the pass has read every member's cache.
func (p *passMetrics) gatheredAll() { p.gathered = time.Now() }

// storeWritten records a propagation sample for every change observed before the pass had
// read the caches: the pass has written it to the store.
func (p *passMetrics) storeWritten() {
	now := time.Now()
	for _, at := range p.f.members.takeObserved(p.gathered) {
		propagationSeconds.Observe(now.Sub(at).Seconds())
	}
}

// end counts the pass and refreshes the members gauge. A pass that failed took nothing: its
// observations stay pending for the next one.
func (p *passMetrics) end(err error) {
	result := passResultOK
	if err != nil {
		result = passResultError
	}
	federationPasses.WithLabelValues(result).Inc()
	setMemberStates(p.f.members.List(p.f.now()))
}

// memberStates are the values of the members gauge's state label.
var memberStates = []string{memberStateReady, memberStateStale, memberStateWithdrawn}

// setMemberStates sets the members gauge from the connected members: one series per member and
// state, 1 for the member's state; members no longer connected disappear.
func setMemberStates(ms []Member) {
	membersByState.Reset()
	for _, m := range ms {
		state := memberStateReady
		switch {
		case m.Withdrawn:
			state = memberStateWithdrawn
		case m.Stale:
			state = memberStateStale
		}
		for _, s := range memberStates {
			v := 0.0
			if s == state {
				v = 1
			}
			membersByState.WithLabelValues(m.Cluster.Name, s).Set(v)
		}
	}
}

// recordStoreWrites adds what w wrote since before to the store counters.
func recordStoreWrites(w *store.Writer, before store.Stats) {
	after := w.Stats()
	storeWrites.Add(float64(after.KeysPut - before.KeysPut + after.KeysDeleted - before.KeysDeleted))
	storeBytesWritten.Add(float64(after.BytesWritten - before.BytesWritten))
}
