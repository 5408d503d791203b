package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/meshfed/meshfed/federation/dns/probe"
	"github.com/meshfed/meshfed/federation/dns/server"
	"github.com/meshfed/meshfed/federation/dns/source"
	"github.com/meshfed/meshfed/federation/dns/zone"
	"github.com/meshfed/meshfed/internal/admin"
	"github.com/meshfed/meshfed/internal/dualport"
)

// Run serves DNS until ctx ends, then fails /readyz, keeps answering for ShutdownDelay and
// stops. It fails when the options are invalid, a port cannot be bound or the ServiceImport
// cache cannot sync.
func Run(ctx context.Context, o Options, log *slog.Logger) error {
	if err := o.Validate(); err != nil {
		return err
	}
	cfg, err := o.kubeConfig()
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv, err := server.New(server.Options{Registerer: reg, MaxTCPConnections: o.MaxTCPConnections, Logger: log})
	if err != nil {
		return err
	}
	resolver, err := o.takeoverProbe()
	if err != nil {
		return err
	}
	var current atomic.Pointer[zone.Table]
	publish := func(t *zone.Table) {
		srv.Publish(t)
		current.Store(t)
	}
	w, err := source.New(cfg, source.Options{Zone: o.zoneOptions(), Publish: publish, ReleaseGrace: o.releaseGrace(), Logger: log})
	if err != nil {
		return err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create the Kubernetes client: %w", err)
	}
	l, pc, err := dualport.Listen(o.ListenAddress)
	if err != nil {
		return err
	}
	var stopping atomic.Bool
	ready := func() bool { return !stopping.Load() && w.Synced() && srv.Ready() }
	stopAdmin, err := admin.Serve(o.AdminAddress, adminHandler(ready, reg), log)
	if err != nil {
		_, _ = pc.Close(), l.Close()
		return err
	}
	defer stopAdmin()

	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, pc, l) }()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watched := make(chan error, 1)
	go func() { watched <- w.Run(watchCtx) }()
	if resolver != "" {
		probed := make(chan struct{})
		defer func() { stopWatch(); <-probed }()
		go func() {
			defer close(probed)
			probe.Loop(watchCtx, probe.Options{
				Resolver: resolver, Interval: o.TakeoverProbeInterval, Table: current.Load,
				Recorder: &probe.Recorder{Client: dc}, Logger: log,
			})
		}()
	}
	log.Info("meshfed-dns starting", "listen", o.ListenAddress, "zones", o.Zones, "clusterDomain", o.ClusterDomain, "ttl", o.TTL, "takeoverProbe", resolver)

	select {
	case err = <-served:
		stopWatch()
		if werr := <-watched; werr != nil {
			log.Warn("ServiceImport watch stopped", "error", werr)
		}
		return err
	case err = <-watched:
		if err != nil {
			stopServing()
			if serr := <-served; serr != nil {
				log.Warn("DNS server stopped", "error", serr)
			}
			return err
		}
	}
	// ctx ended: the watch stopped; answer from the last table while clients move away.
	stopping.Store(true)
	log.Info("meshfed-dns stopping", "delay", o.ShutdownDelay)
	select {
	case <-time.After(o.ShutdownDelay):
	case err = <-served:
		return err
	}
	stopServing()
	return <-served
}

// kubeConfig is --kubeconfig, else the in-cluster config.
func (o *Options) kubeConfig() (*rest.Config, error) {
	if o.Kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("failed to load kubeconfig %s: %w", o.Kubeconfig, err)
		}
		return cfg, nil
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
		return nil, errors.New("not in a pod: --kubeconfig is required")
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("failed to load the in-cluster config: %w", err)
	}
	return cfg, nil
}

// adminHandler serves /healthz (the process runs), /readyz (ready() holds) and /metrics.
func adminHandler(ready func() bool, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not ready: no table from a synced ServiceImport cache, or stopping", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
