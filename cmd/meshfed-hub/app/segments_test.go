package app

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// TestScopesAcrossSegments federates four members in two segments (blue: the default domain,
// green: green.example) and checks, for a service of each scope exported from blue-1, the
// store record's hostname and imports and that the ServiceImport and derived Service exist
// exactly in the clusters DESIGN §3.2 makes import it; a global service from a green member is
// named in the green domain.
func TestScopesAcrossSegments(t *testing.T) {
	env := startHub(t, "blue-1", "blue-2", "green-1", "green-2")
	ctx := t.Context()
	for name, domain := range map[string]string{"blue": wellknown.DefaultSegmentDomain, "green": "green.example"} {
		seg := &meshfedv1.Segment{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: meshfedv1.SegmentSpec{Domain: domain}}
		if err := env.hub.Client.Create(ctx, seg); err != nil {
			t.Fatal(err)
		}
	}
	// startHub joined everyone into the default segment; join again into the two segments,
	// keeping the networks startHub gave.
	for i, name := range []string{"blue-1", "blue-2", "green-1", "green-2"} {
		joinSegment(t, env.hub, env.members[name], fmt.Sprintf("net-%d", i), name[:len(name)-2])
	}
	eventually(t, "members in their segments", func() (bool, string) {
		var list meshfedv1.MemberClusterList
		if err := env.hub.Client.List(ctx, &list); err != nil {
			return false, err.Error()
		}
		var got []string
		for _, mc := range list.Items {
			got = append(got, mc.Name+"="+mc.Spec.Segment)
		}
		slices.Sort(got)
		return slices.Equal(got, []string{"blue-1=blue", "blue-2=blue", "green-1=green", "green-2=green"}), fmt.Sprint(got)
	})

	// The hub writes imports only into namespaces that exist in the member.
	for _, m := range env.members {
		if err := m.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}); err != nil {
			t.Fatal(err)
		}
	}
	blue1 := env.members["blue-1"].Client
	export(t, blue1, "shop", "db", "cluster", "10.244.1.5")
	export(t, blue1, "shop", "cart", "segment", "10.244.1.6")
	export(t, blue1, "shop", "web", "global", "10.244.1.7")
	export(t, blue1, "shop", "pay", "global-only", "10.244.1.8")
	export(t, env.members["green-1"].Client, "shop", "api", "global", "10.244.3.5")

	all := []string{"blue-1", "blue-2", "green-1", "green-2"}
	cases := []struct {
		name, domain, scope string
		importers           []string
		takeover            bool
	}{
		{name: "db", domain: wellknown.DefaultSegmentDomain, scope: "cluster", importers: []string{"blue-1"}},
		{name: "cart", domain: wellknown.DefaultSegmentDomain, scope: "segment", importers: []string{"blue-1", "blue-2"}},
		{name: "web", domain: wellknown.DefaultSegmentDomain, scope: "global", importers: all},
		{name: "pay", domain: wellknown.DefaultSegmentDomain, scope: "global-only", importers: all, takeover: true},
		{name: "api", domain: "green.example", scope: "global", importers: all},
	}
	for _, tc := range cases {
		rec := env.waitImports(t, "shop", tc.domain, tc.name, tc.importers...)
		if want := tc.name + ".shop." + tc.domain; rec.Hostname != want {
			t.Errorf("%s: hostname %q, want %q", tc.name, rec.Hostname, want)
		}
		if string(rec.Scope) != tc.scope || rec.Takeover != tc.takeover {
			t.Errorf("%s: scope %q takeover %v, want %q %v", tc.name, rec.Scope, rec.Takeover, tc.scope, tc.takeover)
		}
		for _, m := range tc.importers {
			checkWriteBack(t, m, env.members[m].Client, rec)
		}
		for _, m := range all {
			if slices.Contains(tc.importers, m) {
				continue
			}
			if gone, state := goneFrom(t, env.members[m].Client, "shop", tc.name); !gone {
				t.Errorf("%s (scope %s) written into %s: %s", tc.name, tc.scope, m, state)
			}
		}
	}
	// The green service is mirrored on the hub under its domain-qualified name.
	eventually(t, "GlobalService api.green.example on the hub", func() (bool, string) {
		var gs meshfedv1.GlobalService
		err := env.hub.Client.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "api.green.example"}, &gs)
		return err == nil && gs.Spec.Hostname == "api.shop.green.example", fmt.Sprintf("%v %q", err, gs.Spec.Hostname)
	})
	if _, ok := env.serviceIn(t, "shop", wellknown.DefaultSegmentDomain, "api"); ok {
		t.Error("green's api also published in the default domain")
	}
}
