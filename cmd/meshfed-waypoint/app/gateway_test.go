package app

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone/identity"
)

// gatewayOptions are the options of a shared gateway of cluster east in meshfed-system serving
// shop and bank, with the certificate files of ns/sa and the store at endpoints.
func gatewayOptions(t *testing.T, ca *testCA, ns, sa string, endpoints []string) Options {
	o := DefaultOptions(func(string) string { return "" })
	o.Namespace, o.GatewayNamespaces, o.Cluster, o.Network, o.Zone = "meshfed-system", []string{"shop", "bank"}, "east", "net-a", "z1"
	o.EtcdEndpoints, o.ListenHost, o.AllowLoopbackEndpoints = endpoints, "127.0.0.1", true
	dir := ca.files(t, ns, sa)
	o.CertFile, o.KeyFile, o.CAFile = filepath.Join(dir, identity.CertFileName), filepath.Join(dir, identity.KeyFileName), filepath.Join(dir, identity.CAFileName)
	o.HBONEAddress = freeHBONEAddr(t)
	return o
}

// TestRunGateway runs the binary's gateway mode against a real etcd: ready once both served
// namespaces' tables synced, shop's service is served on its waypoint port, and
// /debug/endpoints answers per namespace. A waypoint's certificate is refused in gateway mode.
func TestRunGateway(t *testing.T) {
	emb := startStore(t)
	writeService(t, emb.Endpoints(), echoBackend(t, "127.0.0.2"))
	ca := newTestCA(t)

	bad := gatewayOptions(t, ca, "meshfed-system", wellknown.WaypointName, emb.Endpoints())
	if err := Run(t.Context(), bad, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "want the gateway's spiffe://cluster.local/ns/meshfed-system/sa/meshfed-gateway") {
		t.Fatalf("gateway mode with a waypoint certificate: %v, want it refused naming the gateway's ID", err)
	}

	admin := runReady(t, gatewayOptions(t, ca, "meshfed-system", wellknown.GatewayName, emb.Endpoints()))
	echoThroughListener(t, "shop's listener", "127.0.0.1:"+strconv.Itoa(waypointPort))
	for _, tc := range []struct {
		query string
		code  int
		has   string
	}{
		{"?namespace=shop", http.StatusOK, "127.0.0.2"},
		{"?namespace=bank", http.StatusOK, `"routes": []`},
		{"?namespace=other", http.StatusNotFound, `"other" is not served here (bank, shop)`},
		{"", http.StatusBadRequest, "?namespace="},
	} {
		code, body := getStatusBody(admin + "/debug/endpoints" + tc.query)
		if code != tc.code || !strings.Contains(body, tc.has) {
			t.Errorf("/debug/endpoints%s = %d %s, want %d with %q", tc.query, code, body, tc.code, tc.has)
		}
	}
}

func TestValidateGatewayNamespaces(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want string // "" for valid
	}{
		{"shop,bank", ""},
		{" shop , bank ", ""},
		{"shop,Bank", `"Bank" is not a namespace name`},
		{"shop,shop", `"shop" twice`},
		{"shop.x", `"shop.x" is not a namespace name`},
		{"*", ""},
		{" * ", ""},
		{"*,shop", `"*" goes alone`},
	} {
		o := DefaultOptions(func(k string) string {
			return map[string]string{"POD_NAMESPACE": "meshfed-system", "MESHFED_CLUSTER": "east", "MESHFED_NETWORK": "a", "MESHFED_ETCD_ENDPOINTS": "http://127.0.0.1:2379", GatewayNamespacesEnv: tc.env}[k]
		})
		err := o.Validate()
		if tc.want == "" && (err != nil || !o.gateway()) || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s=%q: %v, want %q", GatewayNamespacesEnv, tc.env, err, tc.want)
		}
		if follows := strings.TrimSpace(tc.env) == AllNamespaces; o.followRecord() != follows {
			t.Errorf("%s=%q: follows the store record %v, want %v", GatewayNamespacesEnv, tc.env, o.followRecord(), follows)
		}
	}
	if err := validateGatewayNamespaces([]string{"shop", ""}); err == nil || !strings.Contains(err.Error(), "empty entry") {
		t.Errorf("an empty --gateway-namespaces entry: %v", err)
	}
}

// TestRunGatewayFollowingRecord runs the binary's gateway with --gateway-namespaces '*'
// against a real etcd: not ready, saying why, while the store holds no record of the gateway;
// once the record lists shop, ready, and shop's service is served on its waypoint port.
func TestRunGatewayFollowingRecord(t *testing.T) {
	emb := startStore(t)
	o := gatewayOptions(t, newTestCA(t), "meshfed-system", wellknown.GatewayName, emb.Endpoints())
	o.GatewayNamespaces, o.AdminAddr = []string{AllNamespaces}, freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	admin := "http://" + o.AdminAddr
	const absent = "no gateway record /meshfed/v1/gateways/east/meshfed-system in the store yet"
	waitFor(t, "the record read", func() bool {
		code, body := getStatusBody(admin + "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, absent)
	})

	c, err := store.Connect(t.Context(), store.ClientConfig{Endpoints: emb.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := store.NewWriter(c, store.WriterOptions{Identity: "hub"})
	if err := w.Campaign(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Put(t.Context(), &store.GatewayRecord{Cluster: "east", Namespace: "meshfed-system", Serves: []string{"shop"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Resign(t.Context()); err != nil {
		t.Fatal(err)
	}
	writeService(t, emb.Endpoints(), echoBackend(t, "127.0.0.2"))
	waitFor(t, "ready", func() bool { return get(admin+"/readyz") == http.StatusOK })
	echoThroughListener(t, "shop's listener", "127.0.0.1:"+strconv.Itoa(waypointPort))
	if code, body := getStatusBody(admin + "/debug/endpoints?namespace=bank"); code != http.StatusNotFound || !strings.Contains(body, `"bank" is not served here (shop)`) {
		t.Errorf("/debug/endpoints?namespace=bank = %d %s, want 404: the record lists shop only", code, body)
	}
}
