package zone

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"github.com/miekg/dns"
)

// services makes n services in 100 namespaces, each with one IPv4 address, two named ports,
// a hostname and, for every tenth, takeover: the shape meshfed-bench dns serves.
func services(n int) []Service {
	out := make([]Service, n)
	for i := range out {
		ns := fmt.Sprintf("ns-%d", i%100)
		name := fmt.Sprintf("svc-%d", i)
		out[i] = Service{
			Namespace: ns, Name: name, Hostname: name + "." + ns + ".mesh.internal", Takeover: i%10 == 0,
			IPs:   []netip.Addr{netip.AddrFrom4([4]byte{10, 96, byte(i >> 8), byte(i)})},
			Ports: []Port{{Name: "http", Protocol: "TCP", Number: 80}, {Name: "grpc", Protocol: "TCP", Number: 9090}},
		}
	}
	return out
}

// BenchmarkBuild10k builds the table of 10,000 services; heap-bytes/op is what one table keeps
// alive (measured after a GC with the table still referenced).
func BenchmarkBuild10k(b *testing.B) {
	svcs := services(10000)
	var keep *Table
	var total uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		t, err := Build(svcs, Options{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		keep = t
		total += after.HeapAlloc - before.HeapAlloc
	}
	b.ReportMetric(float64(total)/float64(b.N), "heap-bytes/op")
	runtime.KeepAlive(keep)
}

func BenchmarkAnswer(b *testing.B) {
	t, err := Build(services(10000), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []struct {
		name  string
		qname string
		qtype uint16
	}{
		{"A", "svc-1234.ns-34.mesh.internal.", dns.TypeA},
		{"SRV", "_http._tcp.svc-1234.ns-34.svc.clusterset.local.", dns.TypeSRV},
		{"NXDOMAIN", "nope.ns-34.mesh.internal.", dns.TypeA},
		{"REFUSED", "example.com.", dns.TypeA},
	} {
		b.Run(q.name, func(b *testing.B) {
			req := query(q.qname, q.qtype, 1232)
			buf := make([]byte, 0, 1232)
			for b.Loop() {
				resp := t.Answer(req, false)
				if _, err := resp.PackBuffer(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBuild10kTime(b *testing.B) {
	svcs := services(10000)
	for b.Loop() {
		if _, err := Build(svcs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
