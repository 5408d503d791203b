package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/waypoint"
)

// Run starts the waypoint and blocks until ctx ends. A store that cannot be reached at start is
// retried by the store client; the waypoint serves its last snapshot whenever the store is away.
func Run(ctx context.Context, o Options, log *slog.Logger) error {
	if err := o.Validate(); err != nil {
		return err
	}
	st, err := store.Connect(ctx, store.ClientConfig{
		Endpoints: o.EtcdEndpoints, CAFile: o.EtcdCAFile, CertFile: o.EtcdCertFile, KeyFile: o.EtcdKeyFile, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("failed to connect to the federation store: %w", err)
	}
	defer func() { _ = st.Close() }()
	w, err := waypoint.New(waypoint.Options{
		Namespace: o.Namespace, Cluster: o.Cluster, ListenHost: o.ListenHost,
		Locality:       model.Locality{Network: o.Network, Region: o.Region, Zone: o.Zone, Subzone: o.Subzone, Node: o.Node, Cluster: o.Cluster},
		ConnectTimeout: o.ConnectTimeout, Retries: o.Retries, Logger: log,
	})
	if err != nil {
		return err
	}
	stopAdmin, err := serveAdmin(o.AdminAddr, w.Admin(), log)
	if err != nil {
		return err
	}
	defer stopAdmin()
	log.Info("waypoint starting", "namespace", o.Namespace, "cluster", o.Cluster, "network", o.Network, "zone", o.Zone)
	if err := w.Run(ctx, st); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// serveAdmin serves the admin handler on addr ("0" disables) and returns its stop function.
func serveAdmin(addr string, h http.Handler, log *slog.Logger) (func(), error) {
	if addr == "0" {
		return func() {}, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on admin address %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin server stopped", "error", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
