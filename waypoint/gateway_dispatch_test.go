package waypoint

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
)

// dispatchFixture is a gateway dispatch of cluster west over the tables of shop and bank,
// applied by hand: shop's endpoint 10.1.0.1:8080 and bank's 10.1.0.2:8080, both imported by
// east; bank's service aggregates its remote endpoints (tunnels may name it); bank's record
// of east names the shared gateway; a third namespace, late, never syncs.
func dispatchFixture(t *testing.T, withLate bool) *gatewayDispatch {
	t.Helper()
	d := &gatewayDispatch{log: testLogger}
	names := []string{"bank", "shop"}
	if withLate {
		names = append(names, "late")
	}
	for _, ns := range names {
		opts := Options{Namespace: ns, Cluster: "west", Locality: westWaypoint, Clock: newManualClock(), Logger: testLogger}
		opts.HBONE.TrustDomain = DefaultTrustDomain
		tab := NewTable(opts)
		ip := map[string]string{"shop": "10.1.0.1", "bank": "10.1.0.2"}[ns]
		if ip != "" {
			records := []store.Record{
				nsService(ns, "echo", 20000, fromEastOf("west")),
				nsEndpoints(ns, "echo", "west", endpoint(ip, 8080, otherNetwork)),
			}
			if ns == "bank" {
				records[0] = edit(records[0].(*store.ServiceRecord), func(s *model.PublishedService) {
					s.Load = &model.LoadPolicy{RemoteEndpoints: model.RemoteEndpointsAggregated}
				})
				records = append(records, gatewayRecord("bank", "east", "n1", "192.0.2.1:15008"))
			}
			tab.Apply(store.Batch{Snapshot: true, Revision: 1, Events: put(1, records...)})
		}
		d.add(newNamespaceInbound(tab, opts.withDefaults(), newDialGuard(true)))
	}
	return d
}

func TestGatewayDispatch(t *testing.T) {
	id := func(ns, sa string) identity.ID {
		v, err := identity.WorkloadID(DefaultTrustDomain, ns, sa)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	shopWaypoint, bankWaypoint := id("shop", ServiceAccount), id("bank", ServiceAccount)
	gateway := id(gatewayNS, "meshfed-gateway")
	shopTarget, bankTarget := netip.MustParseAddrPort("10.1.0.1:8080"), netip.MustParseAddrPort("10.1.0.2:8080")
	stranger := netip.MustParseAddrPort("10.1.0.9:8080")
	for _, tc := range []struct {
		name    string
		late    bool // a namespace served has not synced
		caller  identity.ID
		cluster string
		target  netip.AddrPort
		service string // a tunnel naming a service, on port 80
		wantNS  string
		status  int
		wantWhy string
	}{
		{name: "shop's waypoint into shop", caller: shopWaypoint, cluster: "east", target: shopTarget, wantNS: "shop"},
		{name: "bank's waypoint into bank", caller: bankWaypoint, cluster: "east", target: bankTarget, wantNS: "bank"},
		{name: "bank's gateway of east into bank", caller: gateway, cluster: "east", target: bankTarget, wantNS: "bank"},
		{name: "bank's gateway of north", caller: gateway, cluster: "north", target: bankTarget, status: http.StatusForbidden, wantWhy: ReasonCallerNotAllowed},
		{name: "shop's waypoint into bank", caller: shopWaypoint, cluster: "east", target: bankTarget, status: http.StatusForbidden, wantWhy: ReasonCallerNotAllowed},
		{name: "gateway into shop, which publishes none", caller: gateway, cluster: "east", target: shopTarget, status: http.StatusForbidden, wantWhy: ReasonCallerNotAllowed},
		{name: "north does not import", caller: shopWaypoint, cluster: "north", target: shopTarget, status: http.StatusForbidden, wantWhy: ReasonTargetNotAllowed},
		{name: "target of no namespace", caller: shopWaypoint, cluster: "east", target: stranger, status: http.StatusForbidden, wantWhy: ReasonTargetNotServed},
		{name: "target of no synced namespace", late: true, caller: shopWaypoint, cluster: "east", target: stranger, status: http.StatusServiceUnavailable, wantWhy: ReasonNotSynced},
		{name: "known target while another syncs", late: true, caller: shopWaypoint, cluster: "east", target: shopTarget, wantNS: "shop"},
		{name: "bank's aggregated service by name", caller: bankWaypoint, cluster: "east", service: "echo.bank." + wellknown.DefaultSegmentDomain, wantNS: "bank"},
		{name: "bank's service by name from north", caller: bankWaypoint, cluster: "north", service: "echo.bank." + wellknown.DefaultSegmentDomain, status: http.StatusForbidden, wantWhy: ReasonTargetNotAllowed},
		{name: "shop's service, not aggregated, by name", caller: shopWaypoint, cluster: "east", service: "echo.shop." + wellknown.DefaultSegmentDomain, status: http.StatusForbidden, wantWhy: ReasonTargetNotServed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := dispatchFixture(t, tc.late)
			req := &hbone.Request{Caller: tc.caller, CallerCluster: tc.cluster, Target: tc.target, Header: http.Header{}}
			if tc.service != "" {
				req.Service, req.Target = tc.service, netip.AddrPortFrom(netip.Addr{}, 80)
			}
			p, err := d.route(req)
			if tc.wantNS != "" {
				if err != nil || p.namespace != tc.wantNS {
					t.Fatalf("route = %v, %v; want namespace %s", p, err, tc.wantNS)
				}
				return
			}
			r, ok := errors.AsType[*hbone.Refusal](err)
			if !ok || r.Status != tc.status || r.Reason != tc.wantWhy {
				t.Fatalf("route = %v, %v; want %d %s", p, err, tc.status, tc.wantWhy)
			}
		})
	}
}

func TestGatewayOptionsValidate(t *testing.T) {
	pki := newTestPKI(t)
	for _, tc := range []struct {
		name string
		edit func(*GatewayOptions)
		want string // "" for valid
	}{
		{name: "valid", edit: func(*GatewayOptions) {}},
		{name: "no namespaces", edit: func(o *GatewayOptions) { o.Namespaces = nil }, want: "gateway namespaces"},
		{name: "twice", edit: func(o *GatewayOptions) { o.Namespaces = []string{"shop", "shop"} }, want: `"shop" twice`},
		{name: "not a namespace", edit: func(o *GatewayOptions) { o.Namespaces = []string{"shop/x"} }, want: "not a namespace name"},
		{name: "dotted", edit: func(o *GatewayOptions) { o.Namespaces = []string{"shop.x"} }, want: "not a namespace name"},
		{name: "a waypoint's certificate", edit: func(o *GatewayOptions) { o.HBONE.Identity = pki.waypointSource(t, "west") }, want: "want the gateway's spiffe://cluster.local/ns/meshfed-system/sa/meshfed-gateway"},
		{name: "another namespace's gateway", edit: func(o *GatewayOptions) { o.Namespace = "kube-system" }, want: "want the gateway's spiffe://cluster.local/ns/kube-system/sa/meshfed-gateway"},
		{name: "another cluster's certificate", edit: func(o *GatewayOptions) {
			o.HBONE.Identity = pki.source(t, gatewayNS, "meshfed-gateway", "east")
		}, want: `names cluster "east", want "west"`},
		{name: "no HBONE", edit: func(o *GatewayOptions) { o.HBONE = HBONEOptions{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := gatewayOptions(t, pki, "shop", "bank")
			tc.edit(&o)
			err := o.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

// fromEastOf is the import of east from the clusters given.
func fromEastOf(clusters ...string) model.Import {
	return model.Import{Cluster: "east", From: clusters}
}
