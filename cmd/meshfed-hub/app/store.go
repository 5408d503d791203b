package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
)

// openStore starts the embedded etcd (unless external endpoints are given) and connects to it.
func openStore(ctx context.Context, o Options, log *slog.Logger) (*store.Client, func(), error) {
	endpoints := o.EtcdEndpoints
	var emb *embedded.Server
	if o.embeddedStore() {
		var err error
		emb, err = embedded.Start(ctx, embedded.Config{
			DataDir: o.DataDir, ClientURL: o.EmbeddedClientURL, PeerURL: o.EmbeddedPeerURL, Logger: log,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("failed to start embedded etcd in %s: %w", o.DataDir, err)
		}
		endpoints = emb.Endpoints()
	}
	st, err := store.Connect(ctx, store.ClientConfig{
		Endpoints: endpoints, CAFile: o.EtcdCAFile, CertFile: o.EtcdCertFile, KeyFile: o.EtcdKeyFile, Logger: log,
	})
	if err != nil {
		if emb != nil {
			emb.Close()
		}
		return nil, nil, fmt.Errorf("failed to connect to the federation store: %w", err)
	}
	return st, func() {
		_ = st.Close()
		if emb != nil {
			emb.Close()
		}
	}, nil
}
