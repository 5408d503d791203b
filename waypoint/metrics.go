package waypoint

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/meshfed/meshfed/waypoint/balance"
	"github.com/meshfed/meshfed/waypoint/table"
)

// Label values of the metrics.
const (
	// resultConnected and resultFailed are the results of an L4 connection.
	resultConnected = "connected"
	resultFailed    = "failed"
	// noCluster is the destination cluster of a request or connection no endpoint served.
	noCluster = "none"
)

// metrics are one namespace's Prometheus metrics: in a waypoint's registry of its own, with the
// Go runtime's (go_*) and the process's (process_*) as every meshfed binary serves them; in a
// shared gateway's, with a namespace label. Labels are bounded by the services and clusters of
// the namespace and by status codes: no endpoint addresses.
type metrics struct {
	reg         prometheus.Registerer
	requests    *prometheus.CounterVec
	retries     *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	connections *prometheus.CounterVec
	active      *prometheus.GaugeVec

	// series holds the request counter and latency histogram of each service, cluster and
	// code met so far, so that a request does not look them up by label values (which
	// checks, hashes and formats the labels every time). It is bounded as the series are,
	// and no series is ever deleted, so a handle stays the registry's.
	seriesMu sync.RWMutex
	series   map[requestKey]requestSeries
}

// requestKey names the series of one kind of request.
type requestKey struct {
	service, cluster string
	code             int
}

// requestSeries are the handles of one requestKey's series.
type requestSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// newRegistry returns a registry with the Go runtime's and the process's collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// newMetrics registers the metrics of the namespace of table t with reg; the ejection and store
// metrics read t when scraped.
func newMetrics(t *table.Table, reg prometheus.Registerer) *metrics {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshfed_waypoint_requests_total",
			Help: "HTTP requests proxied by per-request routes, by service, the cluster whose endpoint answered (none for a reply of the waypoint itself) and status code.",
		}, []string{"service", "destination_cluster", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshfed_waypoint_request_retries_total",
			Help: "Tries of HTTP requests beyond the first, by service.",
		}, []string{"service"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meshfed_waypoint_request_duration_seconds",
			Help:    "Time from a request's arrival until its response was fully sent, retries included, by service.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"service"}),
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshfed_waypoint_connections_total",
			Help: "Client connections of per-connection (L4) routes, by service, the cluster of the endpoint they were carried to and result (connected, failed).",
		}, []string{"service", "destination_cluster", "result"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meshfed_waypoint_upstream_connections_active",
			Help: "Connections (or tunnels) to endpoints open now, by service: one per L4 connection, pooled ones for HTTP.",
		}, []string{"service"}),
	}
	m.series = make(map[requestKey]requestSeries)
	m.reg.MustRegister(m.requests, m.retries, m.latency, m.connections, m.active, tableCollector{t: t})
	return m
}

// request records one finished client request.
func (m *metrics) request(r *table.Route, cluster string, code int, took time.Duration) {
	k := requestKey{service: serviceLabel(r), cluster: cluster, code: code}
	m.seriesMu.RLock()
	s, ok := m.series[k]
	m.seriesMu.RUnlock()
	if !ok {
		s = requestSeries{count: m.requests.WithLabelValues(k.service, cluster, strconv.Itoa(code)), latency: m.latency.WithLabelValues(k.service)}
		m.seriesMu.Lock()
		m.series[k] = s
		m.seriesMu.Unlock()
	}
	s.count.Inc()
	s.latency.Observe(took.Seconds())
}

func (m *metrics) retry(r *table.Route) { m.retries.WithLabelValues(serviceLabel(r)).Inc() }

// connection records one L4 client connection: connected to h, or failed (h nil).
func (m *metrics) connection(r *table.Route, h *balance.Host) {
	if h == nil {
		m.connections.WithLabelValues(serviceLabel(r), noCluster, resultFailed).Inc()
		return
	}
	m.connections.WithLabelValues(serviceLabel(r), h.Cluster(), resultConnected).Inc()
}

func (m *metrics) upstreamOpened(r *table.Route) { m.active.WithLabelValues(serviceLabel(r)).Inc() }
func (m *metrics) upstreamClosed(r *table.Route) { m.active.WithLabelValues(serviceLabel(r)).Dec() }

// serviceLabel names a route's service in metrics: its hostname (namespace/name when none).
func serviceLabel(r *table.Route) string {
	if r == nil {
		return noCluster
	}
	if r.Hostname != "" {
		return r.Hostname
	}
	return r.Service()
}

// tableCollector reports, when scraped, what the table knows: ejections per route and how far
// the table is from the store.
type tableCollector struct{ t *table.Table }

var (
	ejectionsDesc = prometheus.NewDesc("meshfed_waypoint_ejections_total",
		"Outlier ejections of endpoints, by service and service port, since the route appeared.",
		[]string{"service", "port"}, nil)
	revisionDesc = prometheus.NewDesc("meshfed_waypoint_store_revision",
		"The last store (etcd) revision the endpoint table applied; 0 before the first.", nil, nil)
	lagDesc = prometheus.NewDesc("meshfed_waypoint_store_lag_seconds",
		"Seconds since the endpoint table last applied a batch of the store watch (-1 before the first). "+
			"It also grows while the namespace is quiet: read it with meshfed_waypoint_store_revision and the store's own revision.",
		nil, nil)
)

func (c tableCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- ejectionsDesc
	ch <- revisionDesc
	ch <- lagDesc
}

func (c tableCollector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range c.t.View().Routes {
		ch <- prometheus.MustNewConstMetric(ejectionsDesc, prometheus.CounterValue,
			float64(r.Pool().Ejections()), serviceLabel(r), strconv.Itoa(int(r.Port)))
	}
	ch <- prometheus.MustNewConstMetric(revisionDesc, prometheus.GaugeValue, float64(c.t.Revision()))
	lag := -1.0
	if at := c.t.Applied(); !at.IsZero() {
		lag = time.Since(at).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, lag)
}

// withMetrics serves the metrics of g at /metrics (promhttp's own in reg) and everything
// else with admin.
func withMetrics(admin http.Handler, g prometheus.Gatherer, reg prometheus.Registerer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/", admin)
	return mux
}
