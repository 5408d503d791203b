package waypoint

import (
	"context"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
)

// testPKI issues SPIFFE certificates of DefaultTrustDomain from a fresh development root.
type testPKI struct {
	ca *identity.CA
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	ca, err := identity.NewRootCA(DefaultTrustDomain, time.Hour)
	if err != nil {
		t.Fatalf("NewRootCA: %v", err)
	}
	return &testPKI{ca: ca}
}

// source returns credentials of spiffe://cluster.local/ns/<ns>/sa/<sa> naming cluster ("" for
// none).
func (p *testPKI) source(t testing.TB, ns, sa, cluster string) identity.Source {
	t.Helper()
	id, err := identity.WorkloadID(DefaultTrustDomain, ns, sa)
	if err != nil {
		t.Fatalf("WorkloadID: %v", err)
	}
	issued, err := p.ca.Issue(identity.Workload{ID: id, Cluster: cluster}, time.Hour)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	m, err := identity.NewMaterial(issued.CertPEM, issued.KeyPEM, p.ca.CertPEM())
	if err != nil {
		t.Fatalf("NewMaterial: %v", err)
	}
	return identity.NewStaticSource(m)
}

// waypointSource is the credentials of the waypoint of namespace shop in cluster.
func (p *testPKI) waypointSource(t testing.TB, cluster string) identity.Source {
	return p.source(t, "shop", ServiceAccount, cluster)
}

// withHBONE tunes a waypoint to tunnel over proto with the shop waypoint's credentials and to
// serve HBONE on listen ("" for no inbound).
func withHBONE(src identity.Source, proto hbone.Protocol, listen string) func(*Options) {
	return func(o *Options) {
		o.HBONE = HBONEOptions{Identity: src, Protocol: proto, ListenAddress: listen}
	}
}

// startWaypoint runs one more waypoint of namespace shop on the env's store, stopped when the
// test ends, and waits until its table is ready.
func (e *env) startWaypoint(opts Options) *Waypoint {
	e.t.Helper()
	if opts.Namespace == "" {
		opts.Namespace = "shop"
	}
	opts.Seed, opts.Clock, opts.Logger, opts.AllowLoopbackEndpoints = 7, e.clock, testLogger, true
	wp, err := New(opts)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	client := e.connect()
	go func() { done <- wp.Run(ctx, client) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("waypoint %s Run: %v", opts.Cluster, err)
		}
	})
	e.eventually("table of "+opts.Cluster+" ready", func() bool { return wp.Table().Ready() })
	if wp.Inbound() != nil {
		e.eventually("HBONE server of "+opts.Cluster, func() bool { return wp.Inbound().Addr() != "" })
	}
	return wp
}

// serviceImportedBy is service(wp, mode) imported by east and west from all of from.
func serviceImportedBy(wp int32, mode model.Mode, from ...string) *store.ServiceRecord {
	return edit(service(wp, mode), func(s *model.PublishedService) {
		s.Imports = []model.Import{{Cluster: "east", From: from}, {Cluster: "west", From: from}}
	})
}
