package app

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/store"
)

// gatewayStoreClient connects with the store Secret of the gateway in gwns, as the gateway
// mounting it does, reading the prefix of scope (a namespace it serves).
func gatewayStoreClient(t *testing.T, c client.Client, gwns, scope, caFile, endpoint string) (*store.Client, error) {
	t.Helper()
	return gatewayStoreClientAt(t, c, gwns, store.NamespacePrefix(scope), caFile, endpoint)
}

// gatewayStoreClientAt is gatewayStoreClient reading the key or prefix scope.
func gatewayStoreClientAt(t *testing.T, c client.Client, gwns, scope, caFile, endpoint string) (*store.Client, error) {
	t.Helper()
	var sec corev1.Secret
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: gwns, Name: wellknown.GatewayStoreSecret}, &sec); err != nil {
		return nil, err
	}
	dir := t.TempDir()
	for _, k := range []string{"tls.crt", "tls.key"} {
		if err := os.WriteFile(filepath.Join(dir, k), sec.Data[k], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Connect(t.Context(), store.ClientConfig{
		Endpoints: []string{endpoint}, CAFile: caFile, CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"),
		Scope: scope, DialTimeout: 2 * time.Second,
	})
	if err == nil {
		t.Cleanup(func() { _ = st.Close() })
	}
	return st, err
}

// TestSharedGateway runs a shared gateway in a member's meshfed-system serving shop, cart and
// own, where own has a waypoint of its own: shop and cart are published with the gateway's
// address, namespace and SPIFFE ID (in the hub's trust domain), own keeps its own record and
// the gateway Service gets a Warning Event for it; the global services of shop and cart get
// different waypoint ports (one pod listens for both); the gateway's two Secrets are written
// once, in its namespace, and none in shop or cart (with the member RBAC meshfedctl join
// writes: the hub reads and updates those Secrets by name); the gateway's store certificate
// reads shop and cart and nothing else. Taking cart off the list withdraws its record and, after the
// grace period, the gateway's grant of it and cart's role.
func TestSharedGateway(t *testing.T) {
	const grace = 2 * time.Second
	env := startHubWith(t, func(o *Options) {
		o.EmbeddedInsecure = false
		o.EmbeddedClientURL = "https://" + freeAddr(t)
		o.WaypointUserGrace = grace
		o.TrustDomain = "example.org"
	}, "east-1")
	ctx := t.Context()
	member := env.members["east-1"].Client
	const gwns = wellknown.SystemNamespace
	export(t, member, "shop", "web", "global", "10.244.1.5")
	export(t, member, "cart", "web", "global", "10.244.1.6")
	createWaypointService(t, member, "own")
	gw := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: wellknown.GatewayName, Namespace: gwns, Annotations: map[string]string{
			wellknown.GatewayNamespacesKey: "shop, cart, own", wellknown.HBONEAddressKey: "203.0.113.20:15008",
		}},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "hbone", Port: wellknown.HBONEPort, Protocol: corev1.ProtocolTCP}}},
	}
	if err := member.Create(ctx, gw); err != nil {
		t.Fatal(err)
	}

	const wantID = "spiffe://example.org/ns/" + gwns + "/sa/" + wellknown.GatewayName
	for _, ns := range []string{"shop", "cart"} {
		eventually(t, ns+"'s record names the gateway", func() (bool, string) {
			r, state := env.waypointsIn(t, ns, "east-1")
			return r != nil && r.Gateway == gwns && r.Identity == wantID && slices.Equal(r.Addresses, []string{"203.0.113.20:15008"}), state
		})
	}
	if r, state := env.waypointsIn(t, "own", "east-1"); r == nil || r.Gateway != "" || r.Identity != "" || !slices.Equal(r.Addresses, []string{"203.0.113.7:15008"}) {
		t.Fatalf("own's record is not its own waypoint's: %s", state)
	}
	eventually(t, "a Warning Event on the gateway for own", func() (bool, string) {
		var evs corev1.EventList
		if err := member.List(ctx, &evs, client.InNamespace(gwns)); err != nil {
			return false, err.Error()
		}
		for _, ev := range evs.Items {
			if ev.InvolvedObject.Name == wellknown.GatewayName && ev.Reason == string(meshfedv1.GlobalServiceReasonInvalidGatewayNamespaces) && strings.Contains(ev.Message, "own") {
				return true, ""
			}
		}
		return false, fmt.Sprint(len(evs.Items), " events")
	})
	eventually(t, "different waypoint ports for shop and cart", func() (bool, string) {
		shop, ok1 := env.service(t, "shop", "web")
		cart, ok2 := env.service(t, "cart", "web")
		if !ok1 || !ok2 {
			return false, "services not published"
		}
		a, b := shop.Ports[0].WaypointPort, cart.Ports[0].WaypointPort
		return a != 0 && b != 0 && a != b, fmt.Sprintf("shop %d, cart %d", a, b)
	})

	eventually(t, "the gateway's Secrets", func() (bool, string) {
		storeCert, hboneCert := secretCert(t, member, gwns, wellknown.GatewayStoreSecret), secretCert(t, member, gwns, wellknown.GatewayCertSecret)
		return storeCert != nil && hboneCert != nil, fmt.Sprint(storeCert != nil, hboneCert != nil)
	})
	if c := secretCert(t, member, gwns, wellknown.GatewayStoreSecret); c.Subject.CommonName != store.GatewayUser(gwns, "east-1") {
		t.Fatalf("gateway store certificate for %q, want %q", c.Subject.CommonName, store.GatewayUser(gwns, "east-1"))
	}
	leaf := secretCert(t, member, gwns, wellknown.GatewayCertSecret)
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != wantID || !slices.Equal(leaf.Subject.OrganizationalUnit, []string{"east-1"}) {
		t.Fatalf("gateway HBONE certificate names %v %v, want %s in east-1", leaf.URIs, leaf.Subject, wantID)
	}
	if len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(net.ParseIP("203.0.113.20")) {
		t.Fatalf("gateway HBONE certificate IP SANs %v, want the gateway's address", leaf.IPAddresses)
	}
	for _, ns := range []string{"shop", "cart"} {
		for _, name := range []string{wellknown.WaypointStoreSecret, wellknown.WaypointCertSecret, wellknown.GatewayStoreSecret, wellknown.GatewayCertSecret} {
			if err := member.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
				t.Errorf("Secret %s/%s in a namespace the gateway serves: %v", ns, name, err)
			}
		}
	}

	caFile := filepath.Join(env.opts.DataDir, "tls", "ca.crt")
	var c *store.Client
	eventually(t, "the gateway's user", func() (bool, string) {
		var err error
		c, err = gatewayStoreClient(t, member, gwns, "shop", caFile, env.opts.EmbeddedClientURL)
		return err == nil, fmt.Sprint(err)
	})
	for _, ns := range []string{"shop", "cart"} {
		eventually(t, "the gateway reads "+ns, func() (bool, string) {
			l, err := c.List(ctx, store.NamespacePrefix(ns))
			return err == nil && len(l.Waypoints()) == 1 && len(l.Services()) == 1, fmt.Sprint(l.Entries, err)
		})
	}
	for _, prefix := range []string{store.NamespacePrefix("own"), store.NamespacePrefix(gwns), store.ClustersPrefix} {
		if _, err := c.List(ctx, prefix); !store.IsPermissionDenied(err) {
			t.Fatalf("the gateway lists %s = %v, want permission denied", prefix, err)
		}
	}

	gw.Annotations[wellknown.GatewayNamespacesKey] = "shop,own"
	if err := member.Update(ctx, gw); err != nil {
		t.Fatal(err)
	}
	eventually(t, "cart's record withdrawn", func() (bool, string) {
		r, state := env.waypointsIn(t, "cart", "east-1")
		return r == nil, state
	})
	withdrawn := time.Now()
	eventually(t, "the gateway's grant of cart revoked", func() (bool, string) {
		_, err := c.List(ctx, store.NamespacePrefix("cart"))
		return store.IsPermissionDenied(err), fmt.Sprint(err)
	})
	if held := time.Since(withdrawn); held < grace/2 {
		t.Errorf("the grant of cart went %s after its record, before the grace period (%s)", held, grace)
	}
	if _, err := c.List(ctx, store.NamespacePrefix("shop")); err != nil {
		t.Fatalf("the gateway lost shop with cart: %v", err)
	}
	root := rootClient(t, env.opts)
	eventually(t, "cart's role deleted, shop's and own's kept", func() (bool, string) {
		roles, err := root.ReaderRoleNamespaces(ctx)
		return err == nil && !slices.Contains(roles, "cart") && slices.Contains(roles, "shop") && slices.Contains(roles, "own"), fmt.Sprint(roles, err)
	})
	if r, state := env.waypointsIn(t, "own", "east-1"); r == nil || r.Gateway != "" {
		t.Fatalf("own's record changed: %s", state)
	}
}
