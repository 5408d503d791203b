package waypoint

import (
	"context"
	"testing"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
)

// nsService is a TCP global service ns/name whose waypoint port is wp, imported as imports say.
func nsService(ns, name string, wp int32, imports ...model.Import) *store.ServiceRecord {
	return edit(service(wp, model.ModeAny), func(s *model.PublishedService) {
		s.Namespace, s.Name, s.Hostname, s.Imports = ns, name, name+"."+ns+"."+wellknown.DefaultSegmentDomain, imports
	})
}

// nsEndpoints is cluster's endpoints record of ns/name.
func nsEndpoints(ns, name, cluster string, eps ...model.Endpoint) *store.EndpointsRecord {
	return store.NewEndpointsRecord(&model.PublishedEndpoints{
		Namespace: ns, Domain: wellknown.DefaultSegmentDomain, Name: name, Cluster: cluster, Scope: model.ScopeGlobal, Endpoints: eps,
	})
}

// connector opens the gateway's store clients on the env's store, each scoped as asked (the
// gateway closes them).
func (e *env) connector() StoreConnector {
	return func(ctx context.Context, scope string) (*store.Client, error) {
		return store.Connect(ctx, store.ClientConfig{Endpoints: e.etcd.Endpoints(), Scope: scope, Logger: testLogger, DialTimeout: waitTimeout})
	}
}

// startGateway runs a shared gateway on the env's store, one store client per namespace
// served, stopped when the test ends, and waits until every table is ready and its HBONE
// server listens.
func (e *env) startGateway(opts GatewayOptions) *Gateway {
	e.t.Helper()
	opts.Seed, opts.Clock, opts.Logger, opts.AllowLoopbackEndpoints = 7, e.clock, testLogger, true
	g, err := NewGateway(opts)
	if err != nil {
		e.t.Fatalf("NewGateway: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx, e.connector()) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("gateway Run: %v", err)
		}
	})
	for _, ns := range opts.Namespaces {
		e.eventually("gateway table of "+ns, func() bool { return g.Table(ns).Ready() })
	}
	if g.Inbound() != nil {
		e.eventually("gateway HBONE server", func() bool { return g.Inbound().Addr() != "" })
	}
	return g
}

// gatewayOptions are those of a gateway of cluster west (network n2) serving namespaces,
// outbound on 127.0.0.62 and HBONE on 127.0.0.61, with the gateway's credentials.
func gatewayOptions(t *testing.T, pki *testPKI, namespaces ...string) GatewayOptions {
	return GatewayOptions{
		Options: Options{
			Namespace: gatewayNS, Cluster: "west", Locality: westWaypoint, ListenHost: "127.0.0.62",
			HBONE: HBONEOptions{Identity: pki.source(t, gatewayNS, wellknown.GatewayName, "west"), ListenAddress: "127.0.0.61:0"},
		},
		Namespaces: namespaces,
	}
}
