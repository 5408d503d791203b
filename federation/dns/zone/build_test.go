package zone

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestBuildProblems(t *testing.T) {
	ip := []netip.Addr{netip.MustParseAddr("10.0.0.1")}
	tests := []struct {
		name     string
		svc      Service
		problem  string // substring of the reason; "" for none
		served   bool   // the clusterset name exists
		hostname bool   // the hostname exists
	}{
		{name: "served", svc: Service{Namespace: "a", Name: "b", IPs: ip, Hostname: "b.a.mesh.internal"}, served: true, hostname: true},
		{name: "hostname with a trailing dot and capitals", svc: Service{Namespace: "a", Name: "b", IPs: ip, Hostname: "B.a.Mesh.Internal."}, served: true, hostname: true},
		{name: "no IPs", svc: Service{Namespace: "a", Name: "b", Hostname: "b.a.mesh.internal"}, problem: "no IPs"},
		{name: "invalid name", svc: Service{Namespace: "a", Name: "B_", IPs: ip}, problem: "DNS labels"},
		{name: "empty namespace", svc: Service{Name: "b", IPs: ip}, problem: "DNS labels"},
		{name: "hostname of another service", svc: Service{Namespace: "a", Name: "b", IPs: ip, Hostname: "c.a.mesh.internal"}, problem: "does not start with", served: true},
		{name: "hostname with no zone", svc: Service{Namespace: "a", Name: "b", IPs: ip, Hostname: "b.a"}, problem: "does not start with", served: true},
		{name: "hostname inside clusterset.local", svc: Service{Namespace: "a", Name: "b", IPs: ip, Hostname: "b.a.svc.clusterset.local"}, problem: "inside clusterset.local", served: true},
		{name: "hostname inside the cluster domain", svc: Service{Namespace: "a", Name: "b", IPs: ip, Hostname: "b.a.svc.cluster.local"}, problem: "inside the cluster domain", served: true},
		{name: "hostname with an invalid zone", svc: Service{Namespace: "a", Name: "b", IPs: ip, Hostname: "b.a.me_sh"}, problem: "invalid zone", served: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl, err := Build([]Service{tt.svc}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var reasons []string
			for _, p := range tbl.Omissions() {
				reasons = append(reasons, p.String())
			}
			if got := strings.Join(reasons, "; "); (tt.problem == "") != (got == "") || !strings.Contains(got, tt.problem) {
				t.Errorf("problems %q, want one with %q", got, tt.problem)
			}
			_, served := tbl.names["b.a.svc.clusterset.local."]
			_, hostname := tbl.names["b.a.mesh.internal."]
			if served != tt.served || hostname != tt.hostname {
				t.Errorf("clusterset name %v hostname %v, want %v %v", served, hostname, tt.served, tt.hostname)
			}
		})
	}
}

func TestBuildTwice(t *testing.T) {
	s := Service{Namespace: "a", Name: "b", IPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}}
	tbl, err := Build([]Service{s, s}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Services() != 1 || len(tbl.Omissions()) != 1 || !strings.Contains(tbl.Omissions()[0].Reason, "twice") {
		t.Errorf("services %d problems %v, want 1 and one listed twice", tbl.Services(), tbl.Omissions())
	}
}

func TestBuildZones(t *testing.T) {
	tbl, err := Build([]Service{
		{Namespace: "a", Name: "b", IPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, Hostname: "b.a.east.example", Takeover: true},
	}, Options{Zones: []string{"Mesh.Internal."}, ClusterDomain: "corp.local"})
	if err != nil {
		t.Fatal(err)
	}
	got := tbl.Zones()
	slices.Sort(got)
	want := []string{"b.a.svc.corp.local.", "clusterset.local.", "east.example.", "mesh.internal."}
	if !slices.Equal(got, want) {
		t.Errorf("zones %q, want %q", got, want)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		err  string
	}{
		{name: "defaults", o: Options{}},
		{name: "zones", o: Options{Zones: []string{"mesh.internal", "east.example."}}},
		{name: "bad cluster domain", o: Options{ClusterDomain: "a..b"}, err: "invalid cluster domain"},
		{name: "bad zone", o: Options{Zones: []string{"-x.example"}}, err: "invalid zone"},
		{name: "clusterset zone", o: Options{Zones: []string{"clusterset.local"}}, err: "inside clusterset.local"},
		{name: "cluster domain", o: Options{Zones: []string{"svc.cluster.local"}}, err: "inside the cluster domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("Validate() = %v, want %q", err, tt.err)
			}
			if _, berr := Build(nil, tt.o); (berr == nil) != (err == nil) {
				t.Errorf("Build error %v disagrees with Validate %v", berr, err)
			}
		})
	}
}

// TestBuildReleased: a released takeover serves only its cluster-local name, with the
// cluster's own Service's addresses, unless an import takes that name over.
func TestBuildReleased(t *testing.T) {
	global, local := netip.MustParseAddr("10.96.0.10"), netip.MustParseAddr("10.96.5.5")
	imported := Service{Namespace: "shop", Name: "web", IPs: []netip.Addr{global}, Hostname: "web.shop.mesh.internal"}
	takenOver := imported
	takenOver.Takeover = true
	released := Service{Namespace: "shop", Name: "web", IPs: []netip.Addr{local}, Released: true,
		Ports: []Port{{Name: "http", Protocol: "TCP", Number: 80}}}
	gone := Service{Namespace: "shop", Name: "web", Released: true}
	const plain, clusterset = "web.shop.svc.cluster.local.", "web.shop.svc.clusterset.local."
	tests := []struct {
		name        string
		services    []Service
		plain       string // the first A record, or the rcode, or NODATA
		clusterset  string
		plainSRV    string
		problems    int
		wantService int
	}{
		{name: "released after the import left", services: []Service{released}, plain: local.String(), clusterset: "NXDOMAIN", plainSRV: "80"},
		{name: "released, the import stays without takeover", services: []Service{imported, released}, plain: local.String(), clusterset: global.String(), plainSRV: "80", wantService: 1},
		{name: "taken over again: the import wins", services: []Service{released, takenOver}, plain: global.String(), clusterset: global.String(), plainSRV: "NODATA", wantService: 1},
		{name: "no local Service: the name has no records", services: []Service{gone}, plain: "NODATA", clusterset: "NXDOMAIN", plainSRV: "NODATA"},
		{name: "listed twice: served once, silently", services: []Service{released, released}, plain: local.String(), clusterset: "NXDOMAIN", plainSRV: "80"},
		{name: "invalid name", services: []Service{{Namespace: "shop", Name: "We_b", Released: true}}, plain: "REFUSED", clusterset: "NXDOMAIN", plainSRV: "REFUSED", problems: 1},
	}
	first := func(tbl *Table, name string, qt uint16) string {
		resp := wire(t, tbl.Answer(query(name, qt, 0), false))
		switch {
		case resp.Rcode != dns.RcodeSuccess:
			return dns.RcodeToString[resp.Rcode]
		case len(resp.Answer) == 0:
			return "NODATA"
		}
		switch rr := resp.Answer[0].(type) {
		case *dns.A:
			return rr.A.String()
		case *dns.SRV:
			return fmt.Sprint(rr.Port)
		default:
			return rr.String()
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl, err := Build(tt.services, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := first(tbl, plain, dns.TypeA); got != tt.plain {
				t.Errorf("%s A: %s, want %s", plain, got, tt.plain)
			}
			if got := first(tbl, clusterset, dns.TypeA); got != tt.clusterset {
				t.Errorf("%s A: %s, want %s", clusterset, got, tt.clusterset)
			}
			if got := first(tbl, plain, dns.TypeSRV); got != tt.plainSRV {
				t.Errorf("%s SRV: %s, want %s", plain, got, tt.plainSRV)
			}
			if len(tbl.Omissions()) != tt.problems || tbl.Services() != tt.wantService {
				t.Errorf("problems %v, services %d; want %d problems, %d services", tbl.Omissions(), tbl.Services(), tt.problems, tt.wantService)
			}
		})
	}
}

func TestBuildTakeovers(t *testing.T) {
	ip := []netip.Addr{netip.MustParseAddr("10.0.0.1")}
	tbl, err := Build([]Service{
		{Namespace: "a", Name: "b", IPs: ip, Takeover: true},
		{Namespace: "a", Name: "c", IPs: ip},
		{Namespace: "a", Name: "d", Takeover: true}, // no IPs: left out
		{Namespace: "a", Name: "e", IPs: ip, Released: true},
	}, Options{ClusterDomain: "corp.local"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tbl.Takeovers(), []string{"b.a.svc.corp.local."}; !slices.Equal(got, want) {
		t.Errorf("Takeovers() = %q, want %q", got, want)
	}
}

// TestBuildHeadlessOmissions: an endpoint whose name would not be a DNS label is left out and
// listed; the service keeps its other endpoints.
func TestBuildHeadlessOmissions(t *testing.T) {
	addr := []netip.Addr{netip.MustParseAddr("10.0.0.1")}
	tbl, err := Build([]Service{{Namespace: "a", Name: "b", Headless: true, Endpoints: []Endpoint{
		{ClusterID: "c_1", Hostname: "x", Addresses: addr},
		{ClusterID: "c1", Hostname: "-x", Addresses: addr},
		{ClusterID: "c1", Hostname: "ok", Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.2")}},
	}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.Omissions()) != 2 || tbl.Services() != 1 {
		t.Fatalf("omissions %v services %d, want 2 and 1", tbl.Omissions(), tbl.Services())
	}
	if _, ok := tbl.names["ok.c1.b.a.svc.clusterset.local."]; !ok {
		t.Error("ok.c1.b.a.svc.clusterset.local missing")
	}
	resp := tbl.Answer(query("b.a.svc.clusterset.local.", dns.TypeA, 0), false)
	if got := rrStrings(resp.Answer); len(got) != 1 || !strings.HasSuffix(got[0], "10.0.0.2") {
		t.Errorf("A %q, want 10.0.0.2 only", got)
	}
}
