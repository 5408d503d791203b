package controller

import (
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
)

// TestGatewayRecords checks that each gateway's record lists exactly the namespaces whose
// waypoints records name it, sorted, that a gateway serving none has a record with none, and
// that the store takes them.
func TestGatewayRecords(t *testing.T) {
	ws := []member.Waypoint{
		{Namespace: "bank", Network: "n1", Addresses: []string{"203.0.113.1:15008"}, Gateway: "gw-a"},
		{Namespace: "cart", Network: "n1", Addresses: []string{"203.0.113.9:15008"}},
		{Namespace: "shop", Network: "n1", Addresses: []string{"203.0.113.1:15008"}, Gateway: "gw-a"},
		{Namespace: "web", Network: "n1", Addresses: []string{"203.0.113.2:15008"}, Gateway: "gw-b"},
	}
	recs := gatewayRecords("east-1", []string{"gw-c", "gw-a", "gw-b"}, waypointsRecords("east-1", ws, "example.org"))
	want := []*store.GatewayRecord{
		{Cluster: "east-1", Namespace: "gw-a", Serves: []string{"bank", "shop"}},
		{Cluster: "east-1", Namespace: "gw-b", Serves: []string{"web"}},
		{Cluster: "east-1", Namespace: "gw-c"},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records %+v, want %d", len(recs), recs, len(want))
	}
	for i, r := range recs {
		if !reflect.DeepEqual(r, want[i]) {
			t.Errorf("record %d = %+v, want %+v", i, r, want[i])
		}
		if _, _, err := store.Encode(r); err != nil {
			t.Errorf("the store refuses record %d: %v", i, err)
		}
	}
}

// TestCarryOverKeepsGatewayRecords checks that a member whose caches are not synced keeps its
// gateway records as the store holds them, and only its own.
func TestCarryOverKeepsGatewayRecords(t *testing.T) {
	east := &store.GatewayRecord{Cluster: "east", Namespace: "gw", Serves: []string{"shop"}}
	west := &store.GatewayRecord{Cluster: "west", Namespace: "gw", Serves: []string{"bank"}}
	p := &pass{previousGateways: store.Listing{Entries: []store.Entry{{Key: east.Key(), Record: east}, {Key: west.Key(), Record: west}}}}
	p.carryOverRecords("east")
	if len(p.gateways) != 1 || p.gateways[0] != store.Record(east) {
		t.Fatalf("carried over %+v, want east's gateway record alone", p.gateways)
	}
}

// TestApplyWritesGatewayRecords writes gateway records through apply, against a real etcd:
// the desired ones are put, changed, and deleted once no longer desired, planned against the
// pass's read of the gateways.
func TestApplyWritesGatewayRecords(t *testing.T) {
	ctx := t.Context()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	srv, err := embedded.Start(ctx, embedded.Config{
		DataDir:   t.TempDir(),
		ClientURL: "http://127.0.0.1:" + strconv.Itoa(scaleFreePort(t)),
		PeerURL:   "http://127.0.0.1:" + strconv.Itoa(scaleFreePort(t)),
		Logger:    log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cli, err := store.Connect(ctx, store.ClientConfig{Endpoints: srv.Endpoints(), Logger: log, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	w := store.NewWriter(cli, store.WriterOptions{Identity: "hub-0", Logger: log})
	if err := w.Campaign(ctx); err != nil {
		t.Fatal(err)
	}
	f := NewFederation(nil, cli, w, FederationOptions{Ports: DefaultPortRange}, log)
	stored := func() []*store.GatewayRecord {
		t.Helper()
		l, err := cli.List(ctx, store.GatewaysPrefix)
		if err != nil {
			t.Fatal(err)
		}
		return l.Gateways()
	}
	apply := func(d Desired) {
		t.Helper()
		_, snap, err := cli.NewView(store.GatewaysPrefix).Refresh(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if failed, err := f.apply(ctx, d, nil, nil, snap, storeChanges{all: true}); err != nil || len(failed) != 0 {
			t.Fatalf("apply: %v, not written %v", err, failed)
		}
	}
	a := &store.GatewayRecord{Cluster: "east", Namespace: "gw-a", Serves: []string{"bank", "shop"}}
	b := &store.GatewayRecord{Cluster: "west", Namespace: "gw-b"}
	apply(Desired{Gateways: []store.Record{a, b}})
	if got := stored(); !reflect.DeepEqual(got, []*store.GatewayRecord{a, b}) {
		t.Fatalf("stored %+v, want %+v and %+v", got, a, b)
	}
	a2 := &store.GatewayRecord{Cluster: "east", Namespace: "gw-a", Serves: []string{"shop"}}
	apply(Desired{Gateways: []store.Record{a2}})
	if got := stored(); !reflect.DeepEqual(got, []*store.GatewayRecord{a2}) {
		t.Fatalf("stored %+v, want only %+v", got, a2)
	}
	apply(Desired{})
	if got := stored(); len(got) != 0 {
		t.Fatalf("stored %+v after the gateways went, want none", got)
	}
}
