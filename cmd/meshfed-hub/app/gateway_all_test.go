package app

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/store"
)

// gatewayRecordIn reads the record of the shared gateway of gwns in cluster.
func (e *hubEnv) gatewayRecordIn(t *testing.T, cluster, gwns string) (*store.GatewayRecord, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	entry, ok, err := e.store.Get(ctx, store.GatewayKey(cluster, gwns))
	switch {
	case err != nil:
		return nil, err.Error()
	case !ok:
		return nil, "absent"
	}
	r := entry.Record.(*store.GatewayRecord)
	return r, fmt.Sprintf("%+v", *r)
}

// servedBy lists the namespaces whose waypoints records in cluster name the gateway of gwns.
func (e *hubEnv) servedBy(t *testing.T, cluster, gwns string) ([]string, string) {
	t.Helper()
	l, err := e.store.List(t.Context(), store.NamespacesPrefix)
	if err != nil {
		return nil, err.Error()
	}
	var out []string
	for _, w := range l.Waypoints() {
		if w.Cluster == cluster && w.Gateway == gwns {
			out = append(out, w.Namespace)
		}
	}
	slices.Sort(out)
	return out, fmt.Sprint(out)
}

// TestSharedGatewayAllNamespaces runs a gateway annotated "*" in a member's meshfed-system,
// with namespaces shop and bank, own (with a waypoint of its own), and those every API server
// has: kube-system, kube-public, kube-node-lease and default. The waypoints records naming it
// are exactly bank, default and shop (default is a namespace like any other; the system ones,
// the gateway's own and own are left out), its gateway record lists them, its user holds
// their roles, and its certificate, connected scoped to its record, reads the record and
// those namespaces and is refused another gateway's record, the cluster records, own and
// kube-system. A namespace created later is added (record, gateway record, grant); one being
// deleted is removed (record, gateway record, then the grant after the grace period). The
// gateway Service deleted, its record and its user go.
func TestSharedGatewayAllNamespaces(t *testing.T) {
	const grace = 2 * time.Second
	env := startHubWith(t, func(o *Options) {
		o.EmbeddedInsecure = false
		o.EmbeddedClientURL = "https://" + freeAddr(t)
		o.WaypointUserGrace = grace
	}, "east-1")
	ctx := t.Context()
	member := env.members["east-1"].Client
	const gwns = wellknown.SystemNamespace
	for _, ns := range []string{"shop", "bank"} {
		if err := member.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	createWaypointService(t, member, "own")
	gw := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: wellknown.GatewayName, Namespace: gwns, Annotations: map[string]string{
			wellknown.GatewayNamespacesKey: "*", wellknown.HBONEAddressKey: "203.0.113.20:15008",
		}},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "hbone", Port: wellknown.HBONEPort, Protocol: corev1.ProtocolTCP}}},
	}
	if err := member.Create(ctx, gw); err != nil {
		t.Fatal(err)
	}
	root := rootClient(t, env.opts)
	gateway := store.Gateway{Namespace: gwns, Cluster: "east-1"}
	// serves waits until the records, the gateway record and the user's grants all say want.
	serves := func(what string, want ...string) {
		t.Helper()
		eventually(t, what+": the waypoints records naming the gateway", func() (bool, string) {
			got, state := env.servedBy(t, "east-1", gwns)
			return slices.Equal(got, want), state
		})
		eventually(t, what+": the gateway record", func() (bool, string) {
			r, state := env.gatewayRecordIn(t, "east-1", gwns)
			return r != nil && slices.Equal(r.Serves, want), state
		})
		eventually(t, what+": the gateway user's grants", func() (bool, string) {
			users, err := root.GatewayUsers(ctx)
			return err == nil && slices.Equal(users[gateway], want), fmt.Sprint(users, err)
		})
	}
	serves("at first", "bank", "default", "shop")
	if r, state := env.waypointsIn(t, "own", "east-1"); r == nil || r.Gateway != "" {
		t.Fatalf("own's record is not its own waypoint's: %s", state)
	}
	for _, ns := range []string{"kube-system", "kube-public", "kube-node-lease", gwns} {
		if r, state := env.waypointsIn(t, ns, "east-1"); r != nil {
			t.Fatalf("%s has a waypoints record: %s", ns, state)
		}
	}

	caFile := filepath.Join(env.opts.DataDir, "tls", "ca.crt")
	var c *store.Client
	eventually(t, "the gateway's user, scoped to its record", func() (bool, string) {
		var err error
		c, err = gatewayStoreClientAt(t, member, gwns, store.GatewayKey("east-1", gwns).String(), caFile, env.opts.EmbeddedClientURL)
		return err == nil, fmt.Sprint(err)
	})
	e, found, err := c.Get(ctx, store.GatewayKey("east-1", gwns))
	if err != nil || !found || !slices.Equal(e.Record.(*store.GatewayRecord).Serves, []string{"bank", "default", "shop"}) {
		t.Fatalf("the gateway reads its record = %+v, %v, %v", e, found, err)
	}
	for _, ns := range []string{"bank", "default", "shop"} {
		if _, err := c.List(ctx, store.NamespacePrefix(ns)); err != nil {
			t.Fatalf("the gateway lists %s: %v", ns, err)
		}
	}
	if _, _, err := c.Get(ctx, store.GatewayKey("east-1", "other")); !store.IsPermissionDenied(err) {
		t.Fatalf("the gateway reads another gateway's record = %v, want permission denied", err)
	}
	for _, prefix := range []string{store.ClustersPrefix, store.GatewaysPrefix, store.NamespacePrefix("own"), store.NamespacePrefix("kube-system")} {
		if _, err := c.List(ctx, prefix); !store.IsPermissionDenied(err) {
			t.Fatalf("the gateway lists %s = %v, want permission denied", prefix, err)
		}
	}

	if err := member.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "late"}}); err != nil {
		t.Fatal(err)
	}
	serves("late created", "bank", "default", "late", "shop")
	if _, err := c.List(ctx, store.NamespacePrefix("late")); err != nil {
		t.Fatalf("the gateway lists late: %v", err)
	}

	if err := member.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bank"}}); err != nil {
		t.Fatal(err)
	}
	serves("bank being deleted", "default", "late", "shop")
	if _, err := c.List(ctx, store.NamespacePrefix("bank")); !store.IsPermissionDenied(err) {
		t.Fatalf("the gateway lists bank after its grant went = %v, want permission denied", err)
	}

	if err := member.Delete(ctx, gw); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the gateway record deleted", func() (bool, string) {
		r, state := env.gatewayRecordIn(t, "east-1", gwns)
		return r == nil, state
	})
	eventually(t, "the gateway's user deleted", func() (bool, string) {
		users, err := root.GatewayUsers(ctx)
		return err == nil && len(users) == 0, fmt.Sprint(slices.Collect(maps.Keys(users)), err)
	})
	if _, _, err := c.Get(ctx, store.GatewayKey("east-1", gwns)); err == nil {
		t.Fatal("the deleted gateway's certificate still reads its record")
	}
}
