package app

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/store/embedded"
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
	emb, err := embedded.Start(t.Context(), embedded.Config{
		DataDir: t.TempDir(), ClientURL: "http://" + freeAddr(t), PeerURL: "http://" + freeAddr(t),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	writeService(t, emb.Endpoints(), echoBackend(t, "127.0.0.2"))
	ca := newTestCA(t)

	bad := gatewayOptions(t, ca, "meshfed-system", wellknown.WaypointName, emb.Endpoints())
	if err := Run(t.Context(), bad, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "want the gateway's spiffe://cluster.local/ns/meshfed-system/sa/meshfed-gateway") {
		t.Fatalf("gateway mode with a waypoint certificate: %v, want it refused naming the gateway's ID", err)
	}

	admin := runReady(t, gatewayOptions(t, ca, "meshfed-system", wellknown.GatewayName, emb.Endpoints()))
	var conn net.Conn
	waitFor(t, "shop's listener", func() bool {
		conn, err = net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(waypointPort), time.Second)
		return err == nil
	})
	defer conn.Close()
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	_ = conn.(*net.TCPConn).CloseWrite()
	if got, err := io.ReadAll(conn); err != nil || string(got) != "ping" {
		t.Fatalf("echo through the gateway: %q, %v", got, err)
	}
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
	} {
		o := DefaultOptions(func(k string) string {
			return map[string]string{"POD_NAMESPACE": "meshfed-system", "MESHFED_CLUSTER": "east", "MESHFED_NETWORK": "a", "MESHFED_ETCD_ENDPOINTS": "http://127.0.0.1:2379", GatewayNamespacesEnv: tc.env}[k]
		})
		err := o.Validate()
		if tc.want == "" && (err != nil || !o.gateway()) || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s=%q: %v, want %q", GatewayNamespacesEnv, tc.env, err, tc.want)
		}
	}
	if err := validateGatewayNamespaces([]string{"shop", ""}); err == nil || !strings.Contains(err.Error(), "empty entry") {
		t.Errorf("an empty --gateway-namespaces entry: %v", err)
	}
}
