package store

import (
	"reflect"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/priority"
)

// FuzzOutlierRecord: every outlier policy the annotation parser accepts survives the store,
// model → record → value → record → model, unchanged.
func FuzzOutlierRecord(f *testing.F) {
	for _, s := range []string{"", "consecutive5xxErrors=3", "baseEjectionTime=10s,maxEjectionTime=2m", "maxEjectionPercent=50, consecutiveGatewayErrors=0", "baseEjectionTime=1ms,maxEjectionTime=23h59m59.999s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := model.ParseOutlierPolicy(s)
		if err != nil {
			return
		}
		svc := serviceRecord("shop", "cart").Model()
		svc.Outlier = &p
		key, val, err := Encode(NewServiceRecord(&svc))
		if err != nil {
			t.Fatal(err)
		}
		r, err := Decode(key, val)
		if err != nil {
			t.Fatalf("Decode(%s): %v", val, err)
		}
		back := r.(*ServiceRecord).Model()
		if !reflect.DeepEqual(back.Outlier, &p) {
			t.Fatalf("%q stored as %s reads back as %+v, want %+v", s, val, back.Outlier, p)
		}
	})
}

// FuzzLoadPolicyRecord: every load policy the annotation parsers accept survives the store,
// model → record → value → record → model, unchanged; an unset policy reads back as nil (the
// waypoints' defaults).
func FuzzLoadPolicyRecord(f *testing.F) {
	for _, s := range [][3]string{{"", "", ""}, {"140", "50", "each"}, {"1", "0", ""}, {"4294967295", "100%", " aggregated"}, {" 200 ", "", ""}, {"", "", "aggregated"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, factor, threshold, remote string) {
		p, problems := priority.ResolveLoad(priority.Sources{Service: priority.Annotations{OverprovisioningFactor: factor, PanicThreshold: threshold, RemoteEndpoints: remote}})
		if len(problems) > 0 {
			return
		}
		svc := serviceRecord("shop", "cart").Model()
		var want *model.LoadPolicy
		if !p.IsZero() {
			want = &p
		}
		svc.Load = want
		key, val, err := Encode(NewServiceRecord(&svc))
		if err != nil {
			t.Fatal(err)
		}
		r, err := Decode(key, val)
		if err != nil {
			t.Fatalf("Decode(%s): %v", val, err)
		}
		if back := r.(*ServiceRecord).Model(); !reflect.DeepEqual(back.Load, want) {
			t.Fatalf("%q/%q/%q stored as %s reads back as %+v, want %+v", factor, threshold, remote, val, back.Load, want)
		}
	})
}

// FuzzPropertiesRecord: every set of ServiceImport properties the store accepts survives it,
// model → record → value → record → model, unchanged; none set leaves the record without them
// (so older records keep their bytes).
func FuzzPropertiesRecord(f *testing.F) {
	f.Add("", int32(0), "", "", "", "")
	f.Add("ClientIP", int32(10), "Cluster", "PreferClose", "IPv4", "IPv6")
	f.Add("None", int32(0), "Local", "PreferSameNode", "IPv6", "")
	f.Fuzz(func(t *testing.T, affinity string, timeout int32, policy, distribution, fam1, fam2 string) {
		want := model.ServiceProperties{SessionAffinity: affinity, InternalTrafficPolicy: policy, TrafficDistribution: distribution}
		if timeout != 0 {
			want.SessionAffinityTimeout = &timeout
		}
		for _, f := range []string{fam1, fam2} {
			if f != "" {
				want.IPFamilies = append(want.IPFamilies, f)
			}
		}
		svc := serviceRecord("shop", "cart").Model()
		svc.Properties = want
		rec := NewServiceRecord(&svc)
		key, val, err := Encode(rec)
		if err != nil {
			if rec.Validate() == nil {
				t.Fatalf("Encode failed on a valid record: %v", err)
			}
			return
		}
		if (rec.Properties == nil) != (want.SessionAffinity == "" && want.SessionAffinityTimeout == nil && policy == "" && distribution == "" && want.IPFamilies == nil) {
			t.Fatalf("properties %+v stored as %+v", want, rec.Properties)
		}
		r, err := Decode(key, val)
		if err != nil {
			t.Fatalf("Decode(%s): %v", val, err)
		}
		if back := r.(*ServiceRecord).Model(); !reflect.DeepEqual(back.Properties, want) {
			t.Fatalf("%+v stored as %s reads back as %+v", want, val, back.Properties)
		}
	})
}

// TestConversionKeepsNil: the conversions keep nil slices nil and empty ones empty, since the
// two encode differently (null or [] where a field has no omitempty).
func TestConversionKeepsNil(t *testing.T) {
	eps := NewEndpointsRecord(&model.PublishedEndpoints{Namespace: "a", Domain: "d", Name: "n", Cluster: "c", Scope: model.ScopeGlobal})
	if eps.Endpoints != nil || eps.Model().Endpoints != nil {
		t.Fatalf("nil endpoints became %#v / %#v", eps.Endpoints, eps.Model().Endpoints)
	}
	eps = NewEndpointsRecord(&model.PublishedEndpoints{Namespace: "a", Domain: "d", Name: "n", Cluster: "c", Scope: model.ScopeGlobal, Endpoints: []model.Endpoint{}})
	if eps.Endpoints == nil || eps.Model().Endpoints == nil {
		t.Fatal("empty endpoints became nil")
	}
	svc := NewServiceRecord(&model.PublishedService{GlobalService: model.GlobalService{Imports: []model.Import{{Cluster: "a"}, {Cluster: "b", From: []string{}}}}})
	if svc.Imports[0].From != nil || svc.Imports[1].From == nil || svc.Ports == nil {
		t.Fatalf("imports %#v, ports %#v", svc.Imports, svc.Ports)
	}
}

// BenchmarkNewEndpointsRecord converts one cluster's 10,000 endpoints into their record, as the
// hub does for every endpoints record of every pass.
func BenchmarkNewEndpointsRecord(b *testing.B) {
	e := endpointsRecord("shop", "cart", "east", 10000).Model()
	for b.Loop() {
		_ = NewEndpointsRecord(&e)
	}
}

// BenchmarkEndpointsRecordModel converts a record of 10,000 endpoints back, as a reader does
// for every endpoints record it receives.
func BenchmarkEndpointsRecordModel(b *testing.B) {
	r := endpointsRecord("shop", "cart", "east", 10000)
	for b.Loop() {
		_ = r.Model()
	}
}

// TestEndpointHostname: an endpoint's hostname survives the store; a value written before the
// field existed reads as none, and one that is no DNS-1123 label is dropped without failing
// the record.
func TestEndpointHostname(t *testing.T) {
	r := endpointsRecord("shop", "db", "east", 2)
	m := r.Model()
	m.Endpoints[0].Hostname = "db-0"
	key, val, err := Encode(NewEndpointsRecord(&m))
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(key, val)
	if err != nil {
		t.Fatalf("Decode(%s): %v", val, err)
	}
	got := back.(*EndpointsRecord).Model()
	if got.Endpoints[0].Hostname != "db-0" || got.Endpoints[1].Hostname != "" {
		t.Fatalf("hostnames read back as %q, %q", got.Endpoints[0].Hostname, got.Endpoints[1].Hostname)
	}
	for _, tc := range []struct{ from, to, want string }{
		{`"hostname":"db-0",`, ``, ""},                 // an old record: no field
		{`"hostname":"db-0"`, `"hostname":"DB_0"`, ""}, // not a label: dropped
	} {
		old := strings.Replace(string(val), tc.from, tc.to, 1)
		if old == string(val) {
			t.Fatalf("%s not found in %s", tc.from, val)
		}
		back, err := Decode(key, []byte(old))
		if err != nil {
			t.Fatalf("Decode(%s): %v", old, err)
		}
		if h := back.(*EndpointsRecord).Model().Endpoints[0].Hostname; h != tc.want {
			t.Errorf("%s: hostname %q, want %q", old, h, tc.want)
		}
	}
}

// TestPortsModelIsModelsPorts: PortsModel reads exactly Model's namespace, name, domain,
// hostname, ports and waypoint ports, and nothing else.
func TestPortsModelIsModelsPorts(t *testing.T) {
	r := serviceRecord("shop", "cart")
	r.Ports = append(r.Ports, StoredPort{Name: "grpc", Port: 9090, Protocol: "TCP", AppProtocol: "grpc", WaypointPort: 15007})
	full := r.Model()
	want := model.PublishedService{
		GlobalService: model.GlobalService{Namespace: full.Namespace, Name: full.Name, Domain: full.Domain, Hostname: full.Hostname, Ports: full.Ports},
		WaypointPorts: full.WaypointPorts,
	}
	if len(want.Ports) < 2 || len(full.Exporters) == 0 {
		t.Fatalf("the sample record has %d ports and %d exporters; want a fuller one", len(want.Ports), len(full.Exporters))
	}
	if got := r.PortsModel(); !reflect.DeepEqual(got, want) {
		t.Fatalf("PortsModel = %+v, want %+v", got, want)
	}
}

// TestDecodeSharesEqualImports: a decoded service record's imports that list the same clusters
// share one From list, as the merge builds them.
func TestDecodeSharesEqualImports(t *testing.T) {
	r := serviceRecord("shop", "cart")
	r.Imports = []StoredImport{{Cluster: "a", From: []string{"a", "b"}}, {Cluster: "b", From: []string{"a", "b"}}, {Cluster: "c", From: []string{"c"}}}
	key, val, err := Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(key, val)
	if err != nil {
		t.Fatal(err)
	}
	im := d.(*ServiceRecord).Imports
	if !reflect.DeepEqual(im, r.Imports) {
		t.Fatalf("imports read back as %+v, want %+v", im, r.Imports)
	}
	if &im[0].From[0] != &im[1].From[0] {
		t.Errorf("a's and b's equal lists are not shared")
	}
	if &im[2].From[0] == &im[1].From[0] {
		t.Errorf("c's list is shared with b's, which differs")
	}
}
