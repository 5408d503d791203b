package describe_test

import (
	"bytes"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
	"github.com/meshfed/meshfed/internal/testport"
)

// env is a hub API server and a federation store holding one global service, shop/web:
// east-1 and east-2 (network net-a, region eu) export it with scope global, west-1 (network
// net-b, region us, segment west) with scope segment, so that only west-1 sees west-1's
// endpoint. lone-1 (segment lone) sees only the global exports.
type env struct {
	kubeconfig string
	etcd       string
	writer     *store.Writer
}

// member clusters of the fixture: name, network, region, segment.
var members = [][4]string{
	{"east-1", "net-a", "eu", "default"},
	{"east-2", "net-a", "eu", "default"},
	{"west-1", "net-b", "us", "west"},
	{"lone-1", "net-c", "ap", "lone"},
}

func startEnv(t *testing.T) *env {
	t.Helper()
	hub := framework.Start(t, 1, framework.WithNames("hub"), framework.WithScheme(meshfedv1.AddToScheme))[0]
	e := &env{kubeconfig: hub.KubeconfigFile(t)}
	ctx := t.Context()
	for _, m := range members {
		mc := &meshfedv1.MemberCluster{
			ObjectMeta: metav1.ObjectMeta{Name: m[0]},
			Spec: meshfedv1.MemberClusterSpec{
				Network: m[1], Region: m[2], Segment: m[3], KubeconfigSecretRef: meshfedv1.SecretKeyRef{Name: "member-" + m[0]},
			},
		}
		if err := hub.Client.Create(ctx, mc); err != nil {
			t.Fatal(err)
		}
	}
	if err := hub.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	gs := &meshfedv1.GlobalService{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec: meshfedv1.GlobalServiceSpec{
			ServiceName: "web", Domain: "mesh.internal", Hostname: "web.shop.mesh.internal",
			Scope: meshfedv1.ServiceScopeGlobal, Type: "ClusterSetIP", TrafficDistribution: "PreferClose",
			Ports: []meshfedv1.GlobalServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, AppProtocol: "http", WaypointPort: 20000}},
		},
	}
	if err := hub.Client.Create(ctx, gs); err != nil {
		t.Fatal(err)
	}
	gs.Status = meshfedv1.GlobalServiceStatus{
		Clusters: []meshfedv1.ClusterExportStatus{
			{Name: "east-1", Scope: meshfedv1.ServiceScopeGlobal, Endpoints: 2, ReadyEndpoints: 2},
			{Name: "east-2", Scope: meshfedv1.ServiceScopeGlobal, Endpoints: 2, ReadyEndpoints: 2},
			{Name: "west-1", Scope: meshfedv1.ServiceScopeSegment, Endpoints: 1, ReadyEndpoints: 1, WaypointMissing: true},
		},
		ClusterCount: 3, Endpoints: 5, ReadyEndpoints: 5,
		ImportedBy: []string{"east-1", "east-2", "lone-1", "west-1"},
		Conflicts:  []meshfedv1.ServiceConflict{{Reason: "TrafficDistributionConflict", Message: "east-2 asks for PreferRegion", Clusters: []string{"east-1", "east-2"}}},
		Conditions: []metav1.Condition{{
			Type: string(meshfedv1.GlobalServiceConditionConflict), Status: metav1.ConditionTrue,
			Reason: "TrafficDistributionConflict", Message: "east-2 asks for PreferRegion", LastTransitionTime: metav1.Now(),
		}},
	}
	if err := hub.Client.Status().Update(ctx, gs); err != nil {
		t.Fatal(err)
	}
	e.startStore(t)
	return e
}

// startStore runs an embedded etcd and writes the service record and every cluster's
// endpoints as the hub would.
func (e *env) startStore(t *testing.T) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	emb, err := embedded.Start(t.Context(), embedded.Config{
		DataDir: t.TempDir(), ClientURL: "http://" + freeAddr(t), PeerURL: "http://" + freeAddr(t), Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	e.etcd = emb.Endpoints()[0]
	st, err := store.Connect(t.Context(), store.ClientConfig{Endpoints: emb.Endpoints(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.writer = store.NewWriter(st, store.WriterOptions{Identity: "describe-test", Logger: quiet})
	if err := e.writer.Campaign(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.put(t, serviceRecord(""))
	e.putEndpoints(t, "east-1", model.ScopeGlobal, ep("10.1.0.1", "net-a", "eu", "eu-1", true), ep("10.1.0.2", "net-a", "eu", "eu-1", true))
	e.putEndpoints(t, "east-2", model.ScopeGlobal, ep("10.2.0.1", "net-a", "eu", "eu-2", true), ep("10.2.0.2", "net-a", "eu", "eu-2", true))
	e.putEndpoints(t, "west-1", model.ScopeSegment, ep("10.3.0.1", "net-b", "us", "us-1", true))
	e.put(t, waypointsRecord("east-1", "net-a", "192.0.2.1:15008"))
	e.put(t, waypointsRecord("east-2", "net-a", "192.0.2.2:15008"))
}

// waypointsRecord is the record of cluster's shop waypoints at addrs, as the hub publishes it.
func waypointsRecord(cluster, network string, addrs ...string) *store.WaypointsRecord {
	return store.NewWaypointsRecord(&model.PublishedWaypoints{Namespace: "shop", Cluster: cluster, Network: network, Addresses: addrs})
}

// serviceRecord is shop/web's service record as the hub writes it; the cluster without (if
// any) is left out of the imports.
func serviceRecord(without string) *store.ServiceRecord {
	g := model.GlobalService{
		Namespace: "shop", Name: "web", Domain: "mesh.internal", Hostname: "web.shop.mesh.internal",
		Scope: model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP,
		Ports:        []model.Port{{Name: "http", Port: 80, Protocol: "TCP", AppProtocol: "http"}},
		Distribution: model.Distribution{Mode: model.ModePreferClose},
		Exporters: []model.Exporter{
			{Cluster: "east-1", Scope: model.ScopeGlobal, Endpoints: 2, Ready: 2},
			{Cluster: "east-2", Scope: model.ScopeGlobal, Endpoints: 2, Ready: 2},
			{Cluster: "west-1", Scope: model.ScopeSegment, Endpoints: 1, Ready: 1},
		},
		Imports: []model.Import{
			{Cluster: "east-1", From: []string{"east-1", "east-2"}},
			{Cluster: "east-2", From: []string{"east-1", "east-2"}},
			{Cluster: "lone-1", From: []string{"east-1", "east-2"}},
			{Cluster: "west-1", From: []string{"east-1", "east-2", "west-1"}},
		},
	}
	g.Imports = slices.DeleteFunc(g.Imports, func(im model.Import) bool { return im.Cluster == without })
	return store.NewServiceRecord(&model.PublishedService{GlobalService: g, WaypointPorts: []int32{20000}})
}

func (e *env) putEndpoints(t *testing.T, cluster string, scope model.Scope, eps ...model.Endpoint) {
	t.Helper()
	for i := range eps {
		eps[i].Locality.Cluster = cluster
	}
	e.put(t, store.NewEndpointsRecord(&model.PublishedEndpoints{Namespace: "shop", Domain: "mesh.internal", Name: "web", Cluster: cluster, Scope: scope, Endpoints: eps}))
}

func (e *env) put(t *testing.T, r store.Record) {
	t.Helper()
	if _, err := e.writer.Put(t.Context(), r); err != nil {
		t.Fatal(err)
	}
}

// ep is one endpoint on node n-<last octet>, serving port http on 8080.
func ep(addr, network, region, zone string, ready bool) model.Endpoint {
	return model.Endpoint{
		Address:  addr,
		Ports:    []model.EndpointPort{{Name: "http", Port: 8080}},
		Locality: model.Locality{Network: network, Region: region, Zone: zone, Node: "n-" + addr[strings.LastIndex(addr, ".")+1:]},
		Ready:    ready, Serving: ready,
	}
}

// describe runs meshfedctl describe and returns stdout, or the error.
func (e *env) describe(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append([]string{"describe", "globalservice", "--kubeconfig", e.kubeconfig, "--context", "hub"}, args...)
	err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	if errOut.Len() > 0 {
		t.Logf("stderr of meshfedctl %s:\n%s", strings.Join(args, " "), errOut.String())
	}
	return out.String(), err
}

// freeAddr is a loopback address for a listener the test starts later, which no other socket
// takes meanwhile (internal/testport).
func freeAddr(t *testing.T) string {
	t.Helper()
	return testport.Addr(t, "127.0.0.1")
}
