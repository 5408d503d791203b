package source_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/federation/dns/server"
	"github.com/meshfed/meshfed/federation/dns/source"
	"github.com/meshfed/meshfed/federation/dns/zone"
	"github.com/meshfed/meshfed/internal/dualport"
)

// follow is how soon an answer must reflect a change of a ServiceImport. It bounds a loaded
// 2-core machine, where an API server's watch can lag by seconds, not the speed: each step logs
// how soon it was answered (60–140 ms idle, federation/dns/README.md).
const follow = 5 * time.Second

// TestWatchFollowsServiceImports runs the watcher and the DNS server against a real API server
// and changes ServiceImports under them: each change is answered within follow.
func TestWatchFollowsServiceImports(t *testing.T) {
	c := framework.Start(t, 1, framework.WithNames("east-1"), framework.WithoutRepoCRDs())[0]
	ctx := t.Context()
	for _, ns := range []string{"shop", "data"} {
		if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	// An import that was there before the watch starts is in the first table.
	if err := c.Client.Create(ctx, serviceImport("data", "db", "10.96.0.20", nil)); err != nil {
		t.Fatal(err)
	}
	// shop/web is also a Service of this cluster: its name goes back to it after a takeover.
	local := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	if err := c.Client.Create(ctx, local); err != nil {
		t.Fatal(err)
	}
	// The release outlasts the steps answered during it: the first may take up to follow.
	const grace = follow + 3*time.Second
	addr, w := startDNS(t, c, grace)
	waitFor(t, w.Synced)
	expect(t, addr, "db.data.svc.clusterset.local.", dns.TypeA, "10.96.0.20")

	web := serviceImport("shop", "web", "10.96.0.10", map[string]string{wellknown.HostnameAnnotation: "web.shop.mesh.internal"})
	steps := []step{ // want: "NXDOMAIN", "REFUSED" or the first answer
		{name: "appears", change: func() error { return c.Client.Create(ctx, web) }, qname: "web.shop.mesh.internal.", qtype: dns.TypeA, want: "10.96.0.10"},
		{name: "clusterset name", change: nil, qname: "web.shop.svc.clusterset.local.", qtype: dns.TypeA, want: "10.96.0.10"},
		{name: "SRV", change: nil, qname: "_http._tcp.web.shop.svc.clusterset.local.", qtype: dns.TypeSRV, want: "80 web.shop.svc.clusterset.local."},
		{name: "not taken over yet", change: nil, qname: "web.shop.svc.cluster.local.", qtype: dns.TypeA, want: "REFUSED"},
		{name: "IP changes", change: func() error {
			web.Spec.IPs = []string{"10.96.0.11"}
			return c.Client.Update(ctx, web)
		}, qname: "web.shop.mesh.internal.", qtype: dns.TypeA, want: "10.96.0.11"},
		{name: "takeover on", change: func() error {
			web.Annotations[wellknown.TakeoverAnnotation] = "true"
			return c.Client.Update(ctx, web)
		}, qname: "web.shop.svc.cluster.local.", qtype: dns.TypeA, want: "10.96.0.11"},
		{name: "takeover off: the cluster's own Service answers during the release", change: func() error {
			delete(web.Annotations, wellknown.TakeoverAnnotation)
			return c.Client.Update(ctx, web)
		}, qname: "web.shop.svc.cluster.local.", qtype: dns.TypeA, want: local.Spec.ClusterIP},
		{name: "released with its SRV records", change: nil, qname: "_http._tcp.web.shop.svc.cluster.local.", qtype: dns.TypeSRV, want: "80 web.shop.svc.cluster.local."},
		{name: "the federation names stay the import's", change: nil, qname: "web.shop.svc.clusterset.local.", qtype: dns.TypeA, want: "10.96.0.11"},
		{name: "the release ends (answered within follow after the grace)", change: func() error {
			time.Sleep(grace)
			return nil
		}, qname: "web.shop.svc.cluster.local.", qtype: dns.TypeA, want: "REFUSED"},
		{name: "takeover on again", change: func() error {
			web.Annotations[wellknown.TakeoverAnnotation] = "true"
			return c.Client.Update(ctx, web)
		}, qname: "web.shop.svc.cluster.local.", qtype: dns.TypeA, want: "10.96.0.11"},
		{name: "the import leaves while taking over: released too", change: func() error {
			return c.Client.Delete(ctx, web)
		}, qname: "web.shop.svc.cluster.local.", qtype: dns.TypeA, want: local.Spec.ClusterIP},
		{name: "and comes back", change: func() error {
			web.ResourceVersion = ""
			delete(web.Annotations, wellknown.TakeoverAnnotation)
			return c.Client.Create(ctx, web)
		}, qname: "web.shop.svc.clusterset.local.", qtype: dns.TypeA, want: "10.96.0.11"},
		{name: "hostname moves to another segment domain", change: func() error {
			web.Annotations[wellknown.HostnameAnnotation] = "web.shop.west.example"
			return c.Client.Update(ctx, web)
		}, qname: "web.shop.west.example.", qtype: dns.TypeA, want: "10.96.0.11"},
		{name: "old hostname gone (mesh.internal still served by --zone)", change: nil, qname: "web.shop.mesh.internal.", qtype: dns.TypeA, want: "NXDOMAIN"},
		{name: "disappears", change: func() error { return c.Client.Delete(ctx, web) }, qname: "web.shop.svc.clusterset.local.", qtype: dns.TypeA, want: "NXDOMAIN"},
		{name: "its segment domain is no zone any more", change: nil, qname: "web.shop.west.example.", qtype: dns.TypeA, want: "REFUSED"},
		{name: "an import meshfed did not write, then one it did", change: func() error {
			foreign := serviceImport("shop", "foreign", "10.96.0.30", nil)
			foreign.Labels = nil
			if err := c.Client.Create(ctx, foreign); err != nil {
				return err
			}
			return c.Client.Create(ctx, serviceImport("shop", "marker", "10.96.0.31", nil))
		}, qname: "marker.shop.svc.clusterset.local.", qtype: dns.TypeA, want: "10.96.0.31"},
		{name: "the import meshfed did not write is not served", change: nil, qname: "foreign.shop.svc.clusterset.local.", qtype: dns.TypeA, want: "NXDOMAIN"},
	}
	runSteps(t, addr, follow, steps, first)
}

func serviceImport(ns, name, ip string, ann map[string]string) *mcsv1alpha1.ServiceImport {
	if ann == nil {
		ann = map[string]string{}
	}
	return &mcsv1alpha1.ServiceImport{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, Annotations: ann,
			Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue, wellknown.GlobalServiceNameLabel: name},
		},
		Spec: mcsv1alpha1.ServiceImportSpec{
			Type: mcsv1alpha1.ClusterSetIP, IPs: []string{ip},
			Ports: []mcsv1alpha1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}},
		},
	}
}

// startDNS runs a watcher on c publishing into a DNS server on loopback, serving mesh.internal
// always, with the given release grace; it returns the server's address.
func startDNS(t *testing.T, c *framework.Cluster, releaseGrace time.Duration) (string, *source.Watcher) {
	t.Helper()
	srv, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := source.New(c.Config, source.Options{Publish: srv.Publish, Zone: zone.Options{Zones: []string{"mesh.internal"}}, ReleaseGrace: releaseGrace})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	l, pc, err := dualport.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() { done <- w.Run(ctx) }()
	go func() { done <- srv.Serve(ctx, pc, l) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	})
	return pc.LocalAddr().String(), w
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// first is the first answer to qname (its address, or SRV port and target), or the rcode when
// it is not NOERROR.
func first(t *testing.T, addr, qname string, qtype uint16) string {
	t.Helper()
	req := new(dns.Msg)
	req.SetQuestion(qname, qtype)
	resp, _, err := (&dns.Client{Timeout: follow}).ExchangeContext(t.Context(), req, addr)
	if err != nil {
		return err.Error()
	}
	if resp.Rcode != dns.RcodeSuccess {
		return dns.RcodeToString[resp.Rcode]
	}
	if len(resp.Answer) == 0 {
		return "NODATA"
	}
	switch rr := resp.Answer[0].(type) {
	case *dns.A:
		return rr.A.String()
	case *dns.SRV:
		return fmt.Sprintf("%d %s", rr.Port, rr.Target)
	default:
		return rr.String()
	}
}

func expect(t *testing.T, addr, qname string, qtype uint16, want ...string) {
	t.Helper()
	if got := first(t, addr, qname, qtype); !slices.Contains(want, got) {
		t.Errorf("%s %s: %q, want one of %q", qname, dns.TypeToString[qtype], got, want)
	}
}

// step is one change to the cluster and the answer meshfed-dns must give after it.
type step struct {
	name   string
	change func() error // nil: no change
	qname  string
	qtype  uint16
	want   string
}

// runSteps makes each step's change, then asks addr until ask returns the step's want or
// follow has passed.
func runSteps(t *testing.T, addr string, follow time.Duration, steps []step, ask func(t *testing.T, addr, qname string, qtype uint16) string) {
	t.Helper()
	for _, s := range steps {
		began := time.Now()
		if s.change != nil {
			if err := s.change(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		got, deadline := "", time.Now().Add(follow)
		for time.Now().Before(deadline) {
			if got = ask(t, addr, s.qname, s.qtype); got == s.want {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got != s.want {
			t.Errorf("%s: %s %s answered %q after %s, want %q", s.name, s.qname, dns.TypeToString[s.qtype], got, follow, s.want)
			continue
		}
		t.Logf("%s: answered %q after %s", s.name, got, time.Since(began).Round(time.Millisecond))
	}
}
