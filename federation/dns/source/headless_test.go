package source_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
)

// mcsSlice is an MCS EndpointSlice as the hub writes it: one ready IPv4 endpoint per address,
// hostnames[i] naming address i when given.
func mcsSlice(ns, svc, name, cluster string, addrs []string, hostnames ...string) *discoveryv1.EndpointSlice {
	port, pname := int32(42), "tcp"
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{
			wellknown.ManagedByLabel: wellknown.ManagedByValue, wellknown.GlobalServiceNameLabel: svc,
			mcsv1beta1.LabelServiceName: svc, mcsv1beta1.LabelSourceCluster: cluster,
			discoveryv1.LabelManagedBy: wellknown.EndpointSliceManagedByValue,
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &port}},
	}
	for i, a := range addrs {
		e := discoveryv1.Endpoint{Addresses: []string{a}}
		if i < len(hostnames) {
			e.Hostname = &hostnames[i]
		}
		s.Endpoints = append(s.Endpoints, e)
	}
	return s
}

// answers are every answer to qname (addresses, or "port target" of SRV records), sorted, or
// the rcode when it is not NOERROR.
func answers(t *testing.T, addr, qname string, qtype uint16) string {
	t.Helper()
	req := new(dns.Msg)
	req.SetQuestion(qname, qtype)
	resp, _, err := (&dns.Client{Net: "tcp", Timeout: follow}).ExchangeContext(t.Context(), req, addr)
	if err != nil {
		return err.Error()
	}
	if resp.Rcode != dns.RcodeSuccess {
		return dns.RcodeToString[resp.Rcode]
	}
	var out []string
	for _, rr := range resp.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.SRV:
			out = append(out, fmt.Sprintf("%d %s", rr.Port, rr.Target))
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// TestWatchHeadless: a Headless import is answered from its MCS EndpointSlices, read from a
// real API server, and follows them: every ready endpoint of every source cluster, the SRV
// records naming <hostname>.<cluster ID>.<svc>.<ns>.svc.clusterset.local, those names, and
// NXDOMAIN once no endpoint is left.
func TestWatchHeadless(t *testing.T) {
	c := framework.Start(t, 1, framework.WithNames("east-1"), framework.WithoutRepoCRDs())[0]
	ctx := t.Context()
	if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	si := serviceImport("shop", "db", "", nil)
	si.Spec.Type, si.Spec.IPs = mcsv1alpha1.Headless, nil
	if err := c.Client.Create(ctx, si); err != nil {
		t.Fatal(err)
	}
	east := mcsSlice("shop", "db", "db-east", "id-east", []string{"10.1.0.1", "10.1.0.2"}, "db-0", "db-1")
	west := mcsSlice("shop", "db", "db-west", "id-west", []string{"10.2.0.1"})
	// A slice without meshfed's labels is not read.
	foreign := mcsSlice("shop", "db", "db-foreign", "id-x", []string{"10.9.9.9"})
	delete(foreign.Labels, wellknown.ManagedByLabel)
	for _, s := range []*discoveryv1.EndpointSlice{east, west, foreign} {
		if err := c.Client.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	addr, w := startDNS(t, c, time.Second)
	waitFor(t, w.Synced)
	const base = "db.shop.svc.clusterset.local."
	steps := []step{
		{name: "A: every ready endpoint", qname: base, qtype: dns.TypeA, want: "10.1.0.1 10.1.0.2 10.2.0.1"},
		{name: "SRV of the name", qname: base, qtype: dns.TypeSRV,
			want: "42 10-2-0-1.id-west." + base + " 42 db-0.id-east." + base + " 42 db-1.id-east." + base},
		{name: "SRV of the port", qname: "_tcp._tcp." + base, qtype: dns.TypeSRV,
			want: "42 10-2-0-1.id-west." + base + " 42 db-0.id-east." + base + " 42 db-1.id-east." + base},
		{name: "an endpoint by hostname", qname: "db-1.id-east." + base, qtype: dns.TypeA, want: "10.1.0.2"},
		{name: "an endpoint by address", qname: "10-2-0-1.id-west." + base, qtype: dns.TypeA, want: "10.2.0.1"},
		{name: "an endpoint turns not ready", change: func() error {
			east.Endpoints[1].Conditions.Ready = new(false)
			return c.Client.Update(ctx, east)
		}, qname: base, qtype: dns.TypeA, want: "10.1.0.1 10.2.0.1"},
		{name: "its name is gone", qname: "db-1.id-east." + base, qtype: dns.TypeA, want: "NXDOMAIN"},
		{name: "a source cluster's slice is deleted", change: func() error { return c.Client.Delete(ctx, west) }, qname: base, qtype: dns.TypeA, want: "10.1.0.1"},
		{name: "no endpoint left: NXDOMAIN", change: func() error { return c.Client.Delete(ctx, east) }, qname: base, qtype: dns.TypeA, want: "NXDOMAIN"},
	}
	runSteps(t, addr, follow, steps, answers)
}
