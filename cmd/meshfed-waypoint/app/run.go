package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/meshfed/meshfed/internal/admin"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone/identity"
	"github.com/meshfed/meshfed/waypoint"
)

// Run starts the waypoint, or with --gateway-namespaces the shared gateway, and blocks until
// ctx ends and it has drained (--shutdown-delay, --drain-timeout). A store that cannot be
// reached at start is retried by the store client; the waypoint serves its last snapshot
// whenever the store is away, and is not ready before it has had one (a gateway: one of every
// namespace it serves when it starts; with '*', once it has read its store record too).
func Run(ctx context.Context, o Options, log *slog.Logger) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o.fillLocality(ctx, log)
	hb, err := hboneOptions(ctx, o, log)
	if err != nil {
		return err
	}
	wo := waypoint.Options{
		Namespace: o.Namespace, Cluster: o.Cluster, ListenHost: o.ListenHost,
		Locality:       model.Locality{Network: o.Network, Region: o.Region, Zone: o.Zone, Subzone: o.Subzone, Node: o.Node, Cluster: o.Cluster},
		ConnectTimeout: o.ConnectTimeout, Retries: o.Retries, HBONE: hb, Logger: log,
		AllowLoopbackEndpoints: o.AllowLoopbackEndpoints,
		Drain:                  waypoint.DrainOptions{ShutdownDelay: o.ShutdownDelay, Timeout: o.DrainTimeout},
	}
	if o.followRecord() {
		return runGateway(ctx, o, waypoint.GatewayOptions{Options: wo, FollowRecord: true}, log)
	}
	if o.gateway() {
		return runGateway(ctx, o, waypoint.GatewayOptions{Options: wo, Namespaces: o.GatewayNamespaces}, log)
	}
	w, err := waypoint.New(wo)
	if err != nil {
		return err
	}
	stopAdmin, err := serveAdmin(o, w.Admin(), log)
	if err != nil {
		return err
	}
	defer stopAdmin()
	st, err := connectStore(ctx, o, store.NamespacePrefix(o.Namespace), log)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	if o.AllowLoopbackEndpoints {
		log.Warn("dialing endpoints on loopback addresses (--allow-loopback-endpoints): for single-host labs only")
	}
	log.Info("waypoint starting", "namespace", o.Namespace, "cluster", o.Cluster, "network", o.Network, "zone", o.Zone)
	if err := w.Run(ctx, st); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// runGateway runs the shared gateway of opts: one store client per namespace served, each
// scoped to that namespace's prefix (the gateway's etcd user reads exactly those), and,
// following its store record, one scoped to the record's key.
func runGateway(ctx context.Context, o Options, opts waypoint.GatewayOptions, log *slog.Logger) error {
	g, err := waypoint.NewGateway(opts)
	if err != nil {
		return err
	}
	stopAdmin, err := serveAdmin(o, g.Admin(), log)
	if err != nil {
		return err
	}
	defer stopAdmin()
	if o.AllowLoopbackEndpoints {
		log.Warn("dialing endpoints on loopback addresses (--allow-loopback-endpoints): for single-host labs only")
	}
	serves := any(g.Namespaces())
	if opts.FollowRecord {
		serves = "what " + store.GatewayKey(o.Cluster, o.Namespace).String() + " lists"
	}
	log.Info("shared gateway starting", "namespace", o.Namespace, "serves", serves, "cluster", o.Cluster, "network", o.Network, "zone", o.Zone)
	return g.Run(ctx, func(ctx context.Context, scope string) (*store.Client, error) {
		return connectStore(ctx, o, scope, log.With("scope", scope))
	})
}

// serveAdmin serves h (with the profiles under --profiling) on --admin-address. The admin
// server comes first: while the store cannot be reached the waypoint is live (/healthz) but
// not ready (/readyz), rather than restarting.
func serveAdmin(o Options, h http.Handler, log *slog.Logger) (stop func(), err error) {
	if o.Profiling {
		h = withProfiling(h)
	}
	return admin.Serve(o.AdminAddr, h, log)
}

// storeRetry is the wait between attempts to reach the federation store at start.
const storeRetry = 2 * time.Second

// A store that refuses the waypoint's user (the hub creates it once it has published the
// waypoint) is retried after accessRetry, then twice as long each time up to accessRetryMax.
const (
	accessRetry    = time.Second
	accessRetryMax = 10 * time.Second
)

// connectStore connects to the federation store for scope (a namespace's prefix, or a shared
// gateway's record key), trying again while it does not answer or refuses the waypoint's
// user, until ctx ends.
func connectStore(ctx context.Context, o Options, scope string, log *slog.Logger) (*store.Client, error) {
	// The client reads only its scope: Scope keeps every read inside the one prefix a
	// waypoint's etcd role grants, or one of those a gateway's grants, or the one key of the
	// gateway's record (federation/store, "Access").
	cfg := store.ClientConfig{
		Endpoints: o.EtcdEndpoints, CAFile: o.EtcdCAFile, CertFile: o.EtcdCertFile, KeyFile: o.EtcdKeyFile,
		Username: o.EtcdUsername, PasswordFile: o.EtcdPasswordFile, Scope: scope, Logger: log,
	}
	for {
		st, err := store.ConnectAwaitingAccess(ctx, cfg, accessRetry, accessRetryMax)
		if err == nil {
			return st, nil
		}
		if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			// not a store that did not answer in time: a bad certificate file, or stopping
			return nil, fmt.Errorf("failed to connect to the federation store: %w", err)
		}
		log.Warn("federation store not reachable, not ready; retrying", "endpoints", o.EtcdEndpoints, "error", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("failed to connect to the federation store: %w", ctx.Err())
		case <-time.After(storeRetry):
		}
	}
}

// hboneOptions loads the certificate files, reloaded until ctx ends, into the waypoint's
// HBONE options; without certificate files HBONE is off and a log line says so.
func hboneOptions(ctx context.Context, o Options, log *slog.Logger) (waypoint.HBONEOptions, error) {
	if !o.hboneEnabled() {
		log.Warn("HBONE disabled: no --cert-file, --key-file and --ca-file; routing same-network endpoints only, no inbound tunnels")
		return waypoint.HBONEOptions{}, nil
	}
	src, err := identity.NewFileSource(o.CertFile, o.KeyFile, o.CAFile, log)
	if err != nil {
		return waypoint.HBONEOptions{}, fmt.Errorf("failed to load HBONE certificate files: %w", err)
	}
	go src.Run(ctx, 0)
	proto, err := parseTransport(o.HBONETransport)
	if err != nil {
		return waypoint.HBONEOptions{}, err
	}
	callers, err := ParseCallers(o.AllowCallers)
	if err != nil {
		return waypoint.HBONEOptions{}, err
	}
	log.Info("HBONE enabled", "identity", src.Material().ID.String(), "transport", proto.String(), "inbound", o.inboundAddress(), "allowCallers", len(callers))
	return waypoint.HBONEOptions{
		Identity: src, TrustDomain: o.TrustDomain, ListenAddress: o.inboundAddress(), Protocol: proto, AllowCallers: callers,
		Limits: o.HBONELimits,
	}, nil
}

// withProfiling serves net/http/pprof's handlers under /debug/pprof/ and h elsewhere.
func withProfiling(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
