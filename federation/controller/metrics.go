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
		Help: "Connected member clusters by state (ready, stale, withdrawn), as of the last federation pass.",
	}, []string{"state"})
	federationPasses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meshfed_hub_federation_passes_total",
		Help: "Federation passes by result (ok, error).",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(propagationSeconds, storeWrites, storeBytesWritten, membersByState, federationPasses)
	for _, s := range []string{memberStateReady, memberStateStale, memberStateWithdrawn} {
		membersByState.WithLabelValues(s)
	}
	for _, r := range []string{passResultOK, passResultError} {
		federationPasses.WithLabelValues(r)
	}
}

// observe records that the informer of cluster delivered obj at now, when obj is an
// EndpointSlice or Service; an earlier pending observation of that member is kept.
func (m *Members) observe(cluster string, obj any, now time.Time) {
	if !propagates(obj) {
		return
	}
	m.pendingMu.Lock()
	defer m.pendingMu.Unlock()
	if _, ok := m.pending[cluster]; !ok {
		m.pending[cluster] = now
	}
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

// takeObserved removes and returns the pending observations. A pass takes them before it
// gathers: the informer updates its cache before it calls the handlers, so every change taken
// is in the snapshots the pass reads.
func (m *Members) takeObserved() map[string]time.Time {
	m.pendingMu.Lock()
	defer m.pendingMu.Unlock()
	out := m.pending
	m.pending = map[string]time.Time{}
	return out
}

// restoreObserved puts back observations a failed pass did not write, keeping the earliest.
func (m *Members) restoreObserved(taken map[string]time.Time) {
	m.pendingMu.Lock()
	defer m.pendingMu.Unlock()
	for cluster, at := range taken {
		if cur, ok := m.pending[cluster]; !ok || at.Before(cur) {
			m.pending[cluster] = at
		}
	}
}

// passMetrics follows one federation pass.
type passMetrics struct {
	f      *Federation
	taken  map[string]time.Time
	stored bool
}

// beginPass takes the pending observations for the pass about to gather.
func (f *Federation) beginPass() *passMetrics {
	return &passMetrics{f: f, taken: f.members.takeObserved()}
}

// storeWritten closes the taken observations: the pass has written the store.
func (p *passMetrics) storeWritten() {
	now := time.Now()
	for _, at := range p.taken {
		propagationSeconds.Observe(now.Sub(at).Seconds())
	}
	p.stored = true
}

// end counts the pass, refreshes the members gauge, and puts back the observations of a pass
// that failed before writing the store.
func (p *passMetrics) end(err error) {
	if !p.stored {
		p.f.members.restoreObserved(p.taken)
	}
	result := passResultOK
	if err != nil {
		result = passResultError
	}
	federationPasses.WithLabelValues(result).Inc()
	setMemberStates(p.f.members.List(p.f.now()))
}

// setMemberStates sets the members gauge from the connected members.
func setMemberStates(ms []Member) {
	counts := map[string]int{}
	for _, m := range ms {
		switch {
		case m.Withdrawn:
			counts[memberStateWithdrawn]++
		case m.Stale:
			counts[memberStateStale]++
		default:
			counts[memberStateReady]++
		}
	}
	for _, s := range []string{memberStateReady, memberStateStale, memberStateWithdrawn} {
		membersByState.WithLabelValues(s).Set(float64(counts[s]))
	}
}

// recordStoreWrites adds what w wrote since before to the store counters.
func recordStoreWrites(w *store.Writer, before store.Stats) {
	after := w.Stats()
	storeWrites.Add(float64(after.KeysPut - before.KeysPut + after.KeysDeleted - before.KeysDeleted))
	storeBytesWritten.Add(float64(after.BytesWritten - before.BytesWritten))
}
