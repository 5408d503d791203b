package app

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// exportHeadless exports a headless Service ns/name with scope global from c, with one ready
// endpoint per address, named by hostnames (a StatefulSet's pods), on port 42.
func exportHeadless(t *testing.T, c client.Client, ns, name string, hostnames map[string]string) {
	t.Helper()
	ctx := t.Context()
	_ = c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{wellknown.ServiceScopeKey: "global"}},
		Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: "tcp", Port: 42}}},
	}
	if err := c.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	port, pname := int32(42), "tcp"
	eps := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name + "-1", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &port}},
	}
	for _, addr := range slices.Sorted(maps.Keys(hostnames)) {
		h := hostnames[addr]
		eps.Endpoints = append(eps.Endpoints, discoveryv1.Endpoint{Addresses: []string{addr}, Hostname: &h})
	}
	if err := c.Create(ctx, eps); err != nil {
		t.Fatal(err)
	}
}

// mcsSlices lists the MCS EndpointSlices of ns/name in a member (both MCS labels set).
func mcsSlices(t *testing.T, c client.Client, ns, name string) []discoveryv1.EndpointSlice {
	t.Helper()
	var list discoveryv1.EndpointSliceList
	if err := c.List(t.Context(), &list, client.InNamespace(ns), client.MatchingLabels{mcsv1beta1.LabelServiceName: name}, client.HasLabels{mcsv1beta1.LabelSourceCluster}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// sliceSummary is "<source cluster>: <address>=<hostname>,…" per slice, sorted.
func sliceSummary(items []discoveryv1.EndpointSlice) string {
	var out []string
	for _, s := range items {
		var eps []string
		for _, e := range s.Endpoints {
			h := ""
			if e.Hostname != nil {
				h = *e.Hostname
			}
			eps = append(eps, fmt.Sprintf("%s=%s", strings.Join(e.Addresses, "+"), h))
		}
		out = append(out, s.Labels[mcsv1beta1.LabelSourceCluster]+": "+strings.Join(eps, ","))
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// TestHubWritesMCSEndpointSlices: a headless service with hostnames exported from two
// members gets, in each importing member, one MCS EndpointSlice per source cluster with the MCS
// labels, meshfed's managed-by, the source's cluster ID, the endpoints' hostnames and an owner
// reference to the ServiceImport, and no kubernetes.io/service-name label; with
// --mcs-endpointslices=all a ClusterIP service gets them too; nothing is rewritten when nothing changed; an
// endpoint change rewrites that slice; unexporting deletes them.
func TestHubWritesMCSEndpointSlices(t *testing.T) {
	env := startHubWith(t, func(o *Options) { o.MCSEndpointSlices = "all" }, "east-1", "west-1")
	east, west := env.members["east-1"].Client, env.members["west-1"].Client
	ids := map[string]string{}
	for name, m := range env.members {
		var ns corev1.Namespace
		if err := m.Client.Get(t.Context(), client.ObjectKey{Name: "kube-system"}, &ns); err != nil {
			t.Fatal(err)
		}
		ids[name] = string(ns.UID)
	}
	exportHeadless(t, east, "shop", "db", map[string]string{"10.244.1.10": "db-0", "10.244.1.11": "db-1"})
	exportHeadless(t, west, "shop", "db", map[string]string{"10.244.2.10": "db-0"})
	want := fmt.Sprintf("%s: 10.244.1.10=db-0,10.244.1.11=db-1; %s: 10.244.2.10=db-0", ids["east-1"], ids["west-1"])
	if ids["east-1"] > ids["west-1"] {
		want = fmt.Sprintf("%s: 10.244.2.10=db-0; %s: 10.244.1.10=db-0,10.244.1.11=db-1", ids["west-1"], ids["east-1"])
	}
	first := map[string][]discoveryv1.EndpointSlice{}
	for name, c := range map[string]client.Client{"east-1": east, "west-1": west} {
		eventually(t, "MCS endpointslices of shop/db in "+name, func() (bool, string) {
			got := sliceSummary(mcsSlices(t, c, "shop", "db"))
			return got == want, got
		})
		var si mcsv1alpha1.ServiceImport
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: "db"}, &si); err != nil {
			t.Fatal(err)
		}
		first[name] = mcsSlices(t, c, "shop", "db")
		for _, s := range first[name] {
			l := s.Labels
			if l[discoveryv1.LabelManagedBy] != wellknown.EndpointSliceManagedByValue || l[wellknown.ManagedByLabel] != wellknown.ManagedByValue {
				t.Errorf("%s: slice %s labels %v", name, s.Name, l)
			}
			if _, ok := l[discoveryv1.LabelServiceName]; ok {
				t.Errorf("%s: slice %s carries %s", name, s.Name, discoveryv1.LabelServiceName)
			}
			if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != si.UID || s.OwnerReferences[0].Kind != "ServiceImport" {
				t.Errorf("%s: slice %s owners %+v, want the ServiceImport %s", name, s.Name, s.OwnerReferences, si.UID)
			}
			if s.AddressType != discoveryv1.AddressTypeIPv4 || len(s.Ports) != 1 || *s.Ports[0].Port != 42 || *s.Ports[0].Name != "tcp" {
				t.Errorf("%s: slice %s address type %s ports %+v", name, s.Name, s.AddressType, s.Ports)
			}
			for _, e := range s.Endpoints {
				if e.Conditions.Ready == nil || !*e.Conditions.Ready {
					t.Errorf("%s: slice %s endpoint %v not ready", name, s.Name, e.Addresses)
				}
			}
		}
	}

	// A ClusterIP service gets MCS EndpointSlices too in mode all (not in the default, headless).
	export(t, east, "shop", "web", "global", "10.244.1.20")
	eventually(t, "MCS endpointslices of shop/web in west-1", func() (bool, string) {
		got := sliceSummary(mcsSlices(t, west, "shop", "web"))
		return got == ids["east-1"]+": 10.244.1.20=", got
	})

	// Passes with nothing changed rewrite nothing (the test hub resyncs every 2s).
	time.Sleep(5 * time.Second)
	for _, s := range first["west-1"] {
		var again discoveryv1.EndpointSlice
		if err := west.Get(t.Context(), client.ObjectKeyFromObject(&s), &again); err != nil || again.ResourceVersion != s.ResourceVersion {
			t.Errorf("unchanged slice %s rewritten: %v, resourceVersion %s → %s", s.Name, err, s.ResourceVersion, again.ResourceVersion)
		}
	}

	// Unexporting from east-1 leaves west-1's endpoints only; unexporting from west-1 too
	// deletes every slice within the MCS spec's 20 s.
	if err := east.Delete(t.Context(), &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "east-1's slices of shop/db withdrawn from west-1", func() (bool, string) {
		got := sliceSummary(mcsSlices(t, west, "shop", "db"))
		return got == ids["west-1"]+": 10.244.2.10=db-0", got
	})
	if err := west.Delete(t.Context(), &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db"}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for name, c := range map[string]client.Client{"east-1": east, "west-1": west} {
		eventually(t, "shop/db slices deleted from "+name, func() (bool, string) {
			got := mcsSlices(t, c, "shop", "db")
			return len(got) == 0, sliceSummary(got)
		})
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("slices deleted after %v, the MCS spec allows 20s", d)
	}
}
