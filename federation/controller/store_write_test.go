package controller

import (
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
)

// TestApplyFailsOnlyTheServiceItCannotWrite: a pass whose merge holds a service record too
// large for the store writes every other service and returns the failure under that service,
// without failing. The failed service is new, so its endpoints are not written either: a reader
// never sees endpoints of a service it does not know. Once the store knows the service, a
// service record that fails keeps the stored one and the endpoints still follow.
func TestApplyFailsOnlyTheServiceItCannotWrite(t *testing.T) {
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

	service := func(name, conflict string) merge.Service {
		g := model.GlobalService{
			Namespace: "shop", Name: name, Domain: wellknown.DefaultSegmentDomain, Hostname: name + ".shop." + wellknown.DefaultSegmentDomain,
			Scope: model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP, Ports: []model.Port{{Name: "http", Port: 80, Protocol: "TCP"}},
			Distribution: model.Distribution{Mode: model.ModePreferNetwork},
			Exporters:    []model.Exporter{{Cluster: "east", Scope: model.ScopeGlobal}},
			Imports:      []model.Import{{Cluster: "east", From: []string{"east"}}},
		}
		if conflict != "" {
			g.Conflicts = []model.Conflict{{Reason: model.ReasonPortConflict, Message: conflict, Clusters: []string{"east"}}}
		}
		return merge.Service{Global: g, Endpoints: []merge.ClusterEndpoints{{Cluster: "east", Endpoints: []model.Endpoint{{Address: "10.0.0.1", Ready: true, Serving: true}}}}}
	}
	res := merge.Result{Services: []merge.Service{service("a", ""), service("huge", strings.Repeat("x", 1<<20)), service("z", "")}}
	members := []MemberState{{Cluster: model.Cluster{Name: "east", Network: "n", Segment: wellknown.DefaultSegment}, Ready: true}}
	failed, err := f.apply(ctx, DesiredRecords(&res, members, nil), nil, nil, nil, storeChanges{all: true})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	byService := storeFailures(failed)
	huge := merge.Key{Namespace: "shop", Domain: wellknown.DefaultSegmentDomain, Name: "huge"}
	if len(byService) != 1 || len(byService[huge]) != 1 || !errors.Is(byService[huge][0], store.ErrRecordTooLarge) {
		t.Fatalf("failures %v, want the huge service's record too large", byService)
	}
	l, err := cli.List(ctx, store.NamespacePrefix("shop"))
	if err != nil || len(l.Services()) != 2 || len(l.Endpoints()) != 2 {
		t.Fatalf("the store holds %d services and %d endpoints records (%v), want 2 and 2", len(l.Services()), len(l.Endpoints()), err)
	}

	// huge becomes small enough: written with its endpoints. Then it grows again, with a
	// changed endpoint: the stored service record stays, the endpoint change is written.
	res.Services[1] = service("huge", "")
	if failed, err := f.apply(ctx, DesiredRecords(&res, members, nil), l.Services(), nil, nil, storeChanges{all: true}); err != nil || len(failed) != 0 {
		t.Fatalf("apply: %v, not written %v", err, failed)
	}
	if l, err = cli.List(ctx, store.NamespacePrefix("shop")); err != nil || len(l.Services()) != 3 || len(l.Endpoints()) != 3 {
		t.Fatalf("the store holds %d services and %d endpoints records (%v), want 3 and 3", len(l.Services()), len(l.Endpoints()), err)
	}
	res.Services[1] = service("huge", strings.Repeat("x", 1<<20))
	res.Services[1].Endpoints[0].Endpoints[0].Ready = false
	failed, err = f.apply(ctx, DesiredRecords(&res, members, nil), l.Services(), nil, nil, storeChanges{all: true})
	if err != nil || len(storeFailures(failed)[huge]) != 1 {
		t.Fatalf("apply: %v, not written %v; want the huge service's record", err, failed)
	}
	e, found, err := cli.Get(ctx, store.EndpointsKey("shop", wellknown.DefaultSegmentDomain, "huge", "east"))
	if err != nil || !found || e.Record.(*store.EndpointsRecord).Endpoints[0].Ready {
		t.Fatalf("the known service's endpoint change was not written: found %v, %v", found, err)
	}
}
