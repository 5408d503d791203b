package server

import (
	"strconv"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshfed/meshfed/federation/dns/zone"
)

// Transports a query came over, the values of the transport label.
const (
	transportUDP = "udp"
	transportTCP = "tcp"
)

// fastRcodes is how many rcodes (0 … fastRcodes-1) have a counter resolved in advance; the
// rest (rare extended rcodes) are looked up by label.
const fastRcodes = 24

// metrics are the server's Prometheus collectors.
type metrics struct {
	queries  *prometheus.CounterVec
	fast     [2][fastRcodes]prometheus.Counter // [tcp][rcode]
	services prometheus.Gauge
	names    prometheus.Gauge
	problems prometheus.Gauge
	updates  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshfed_dns_queries_total", Help: "DNS queries answered, by response code and transport.",
		}, []string{"rcode", "transport"}),
		services: prometheus.NewGauge(prometheus.GaugeOpts{Name: "meshfed_dns_services", Help: "Imported global services with names in the served table."}),
		names:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "meshfed_dns_names", Help: "Names stored in the served table: zone apexes, service names, empty non-terminals (the SRV names below service names are derived, not stored)."}),
		problems: prometheus.NewGauge(prometheus.GaugeOpts{Name: "meshfed_dns_problems", Help: "Services or names of services left out of the served table (see the log)."}),
		updates:  prometheus.NewCounter(prometheus.CounterOpts{Name: "meshfed_dns_table_updates_total", Help: "Tables published."}),
	}
	for i, transport := range []string{transportUDP, transportTCP} {
		for rc := range fastRcodes {
			m.fast[i][rc] = m.queries.WithLabelValues(rcodeLabel(rc), transport)
		}
	}
	for _, c := range []prometheus.Collector{m.queries, m.services, m.names, m.problems, m.updates} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func rcodeLabel(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}

func (m *metrics) answered(rcode int, tcp bool) {
	i := 0
	if tcp {
		i = 1
	}
	if rcode >= 0 && rcode < fastRcodes {
		m.fast[i][rcode].Inc()
		return
	}
	m.queries.WithLabelValues(rcodeLabel(rcode), [2]string{transportUDP, transportTCP}[i]).Inc()
}

func (m *metrics) published(t *zone.Table) {
	m.services.Set(float64(t.Services()))
	m.names.Set(float64(t.Names()))
	m.problems.Set(float64(len(t.Omissions())))
	m.updates.Inc()
}
