package zone

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
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
