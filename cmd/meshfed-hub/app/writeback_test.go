package app

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/writeback"
)

// imported is what the hub wrote back into one member for one global service.
type imported struct {
	si      mcsv1alpha1.ServiceImport
	derived corev1.Service
	err     error
}

// importedIn reads the ServiceImport and derived Service of ns/name from a member.
func importedIn(t *testing.T, c client.Client, ns, name string) imported {
	t.Helper()
	var got imported
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &got.si); err != nil {
		got.err = err
		return got
	}
	got.err = c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: wellknown.DerivedServiceName(name)}, &got.derived)
	return got
}

// goneFrom reports whether neither the ServiceImport nor the derived Service of ns/name exists.
func goneFrom(t *testing.T, c client.Client, ns, name string) (bool, string) {
	t.Helper()
	siErr := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &mcsv1alpha1.ServiceImport{})
	svcErr := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: wellknown.DerivedServiceName(name)}, &corev1.Service{})
	return apierrors.IsNotFound(siErr) && apierrors.IsNotFound(svcErr), fmt.Sprintf("serviceimport: %v, derived service: %v", siErr, svcErr)
}

// checkImported checks a member's write-back of ns/name against the store record: labels,
// waypoint selector, ports mapped to the allocated waypoint ports, and ips = the ClusterIP.
func (e *hubEnv) checkImported(t *testing.T, member, ns, name string) imported {
	t.Helper()
	c := e.members[member].Client
	var got imported
	eventually(t, fmt.Sprintf("%s/%s imported in %s", ns, name, member), func() (bool, string) {
		got = importedIn(t, c, ns, name)
		return got.err == nil && len(got.si.Spec.IPs) == 1, fmt.Sprintf("%v %+v", got.err, got.si.Spec)
	})
	rec, ok := e.service(t, ns, name)
	if !ok {
		t.Fatalf("no store record of %s/%s", ns, name)
	}
	d := &got.derived
	if d.Labels[wellknown.ManagedByLabel] != "meshfed" || d.Labels[wellknown.GlobalServiceNameLabel] != name {
		t.Errorf("%s: derived service labels %v", member, d.Labels)
	}
	if d.Spec.Selector[wellknown.WaypointPodLabel] != wellknown.WaypointName || len(d.Spec.Selector) != 1 {
		t.Errorf("%s: derived service selector %v", member, d.Spec.Selector)
	}
	if len(d.Spec.Ports) != len(rec.Ports) {
		t.Fatalf("%s: derived ports %+v, record ports %+v", member, d.Spec.Ports, rec.Ports)
	}
	for i, p := range rec.Ports {
		dp := d.Spec.Ports[i]
		if dp.Port != p.Port || dp.Name != p.Name || dp.TargetPort != intstr.FromInt32(p.WaypointPort) || p.WaypointPort == 0 {
			t.Errorf("%s: derived port %+v, record port %+v", member, dp, p)
		}
	}
	if got.si.Spec.IPs[0] != d.Spec.ClusterIP || got.si.Spec.Type != mcsv1alpha1.ClusterSetIP {
		t.Errorf("%s: serviceimport ips %v type %s, derived ClusterIP %s", member, got.si.Spec.IPs, got.si.Spec.Type, d.Spec.ClusterIP)
	}
	if len(got.si.Spec.Ports) != 1 || got.si.Spec.Ports[0].Port != 80 || got.si.Spec.Ports[0].Name != "http" {
		t.Errorf("%s: serviceimport ports %+v", member, got.si.Spec.Ports)
	}
	if got.si.Labels[wellknown.ManagedByLabel] != "meshfed" {
		t.Errorf("%s: serviceimport labels %v", member, got.si.Labels)
	}
	return got
}

// TestHubWritesImportsBack runs the assembled hub against two joined members: a global
// service is imported into both (ServiceImport + derived Service), a cluster-scoped one only
// where it is exported, narrowing and unexporting clean up, objects the hub does not own are
// left alone, and nothing is rewritten when nothing changed.
func TestHubWritesImportsBack(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	east, west := env.members["east-1"].Client, env.members["west-1"].Client
	ctx := t.Context()
	for _, ns := range []string{"shop", "blog"} {
		if err := west.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	// A user's own Service in west-1 that happens to carry the derived name of blog/web.
	userSvc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web-global", Namespace: "blog", Labels: map[string]string{"team": "blog"}},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "mine"}, Ports: []corev1.ServicePort{{Name: "tcp", Port: 8443}}},
	}
	if err := west.Create(ctx, userSvc); err != nil {
		t.Fatal(err)
	}
	export(t, east, "shop", "web", "global", "10.244.1.5")
	export(t, east, "shop", "db", "cluster", "10.244.1.7")
	export(t, east, "blog", "web", "global", "10.244.1.8")

	eastWeb := env.checkImported(t, "east-1", "shop", "web")
	env.checkImported(t, "west-1", "shop", "web")
	env.checkImported(t, "east-1", "shop", "db")
	env.checkImported(t, "east-1", "blog", "web")

	// Cluster scope: db is imported only where it is exported.
	if gone, state := goneFrom(t, west, "shop", "db"); !gone {
		t.Errorf("cluster-scoped db written into west-1: %s", state)
	}
	// The user's web-global is left untouched; the ServiceImport is still written, without ips.
	eventually(t, "blog/web import in west-1", func() (bool, string) {
		var si mcsv1alpha1.ServiceImport
		err := west.Get(ctx, client.ObjectKey{Namespace: "blog", Name: "web"}, &si)
		return err == nil, fmt.Sprint(err)
	})
	var si mcsv1alpha1.ServiceImport
	if err := west.Get(ctx, client.ObjectKey{Namespace: "blog", Name: "web"}, &si); err != nil || len(si.Spec.IPs) != 0 {
		t.Errorf("blog/web import in west-1: %v ips %v, want no ips", err, si.Spec.IPs)
	}
	var after corev1.Service
	if err := west.Get(ctx, client.ObjectKeyFromObject(userSvc), &after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != userSvc.ResourceVersion || after.Labels[wellknown.ManagedByLabel] != "" {
		t.Errorf("user's web-global changed: resourceVersion %s → %s, labels %v", userSvc.ResourceVersion, after.ResourceVersion, after.Labels)
	}

	// Passes with nothing changed rewrite nothing (the test hub resyncs every 2s). The hub
	// writes an import's status after its spec, so checkImported may have read it in between:
	// the reference is read once the status lists the exporter.
	eventually(t, "shop/web's import in east-1 lists east-1 in its status", func() (bool, string) {
		eastWeb = importedIn(t, east, "shop", "web")
		return eastWeb.err == nil && slices.Equal(eastWeb.si.Status.Clusters, []mcsv1alpha1.ClusterStatus{{Cluster: "east-1"}}),
			fmt.Sprintf("%v %+v", eastWeb.err, eastWeb.si.Status)
	})
	time.Sleep(5 * time.Second)
	again := importedIn(t, east, "shop", "web")
	if again.err != nil || again.si.ResourceVersion != eastWeb.si.ResourceVersion || again.derived.ResourceVersion != eastWeb.derived.ResourceVersion {
		t.Errorf("unchanged import rewritten: %v, serviceimport %s → %s, derived %s → %s", again.err,
			eastWeb.si.ResourceVersion, again.si.ResourceVersion, eastWeb.derived.ResourceVersion, again.derived.ResourceVersion)
	}

	// Narrowing web to cluster scope removes it from west-1 only.
	export(t, east, "shop", "web", "cluster")
	eventually(t, "shop/web withdrawn from west-1", func() (bool, string) { return goneFrom(t, west, "shop", "web") })
	if got := importedIn(t, east, "shop", "web"); got.err != nil {
		t.Errorf("shop/web gone from east-1 too: %v", got.err)
	}

	// Unexporting removes it everywhere.
	export(t, east, "shop", "web", "")
	eventually(t, "shop/web withdrawn from east-1", func() (bool, string) { return goneFrom(t, east, "shop", "web") })

	// A member that leaves is cleaned up with writeback.RemoveAll; the user's objects stay.
	env.stop()
	if err := writeback.RemoveAll(ctx, west); err != nil {
		t.Fatal(err)
	}
	if err := west.Get(ctx, client.ObjectKey{Namespace: "blog", Name: "web"}, &mcsv1alpha1.ServiceImport{}); !apierrors.IsNotFound(err) {
		t.Errorf("blog/web import left in west-1: %v", err)
	}
	if err := west.Get(ctx, client.ObjectKeyFromObject(userSvc), &corev1.Service{}); err != nil {
		t.Errorf("user's web-global: %v", err)
	}
	if err := writeback.RemoveAll(ctx, east); err != nil {
		t.Fatal(err)
	}
	for _, k := range []client.ObjectKey{{Namespace: "shop", Name: "db"}, {Namespace: "blog", Name: "web"}} {
		if gone, state := goneFrom(t, east, k.Namespace, k.Name); !gone {
			t.Errorf("%s left in east-1: %s", k, state)
		}
	}
}
