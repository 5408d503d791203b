package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
)

// errStoreNotOpen is the readiness failure while the store is being opened.
var errStoreNotOpen = errors.New("the federation store is not open yet")

// hubStore is the federation store as the hub opens it: in the background, so that the hub's
// caches, its Lease and its member connections get going while etcd starts (the embedded etcd
// takes a few hundred milliseconds to start on existing data, a good part of a restart).
type hubStore struct {
	opened chan struct{}
	// Set before opened closes.
	client *store.Client
	writer *store.Writer
	err    error
	close  func()
}

// openStore starts opening the store: the embedded etcd (unless external endpoints are given),
// a client and the writer of identity. Then, with the embedded store, it evicts every writer
// found there (see Run) and hands their identities to departed.
func openStore(ctx context.Context, o Options, identity string, departed func(ids ...string), log *slog.Logger) *hubStore {
	s := &hubStore{opened: make(chan struct{}), close: func() {}}
	go func() {
		defer close(s.opened)
		client, closeStore, err := connectStore(ctx, o, log)
		if err != nil {
			s.err = err // s.close stays a no-op: nothing was opened
			return
		}
		s.client, s.close = client, closeStore
		s.writer = store.NewWriter(s.client, store.WriterOptions{
			Identity: identity, SessionTTL: int(leaseSeconds(o.LeaseDuration)), Logger: log,
		})
		if !o.embeddedStore() {
			return
		}
		ids, err := s.writer.Evict(ctx, func(string) bool { return true })
		if err != nil {
			log.Warn("failed to evict the previous store writers; campaigning behind them", "error", err)
		}
		departed(ids...)
	}()
	return s
}

// wait returns the open store's client and writer, once it is open; an error when opening
// failed or ctx ended first.
func (s *hubStore) wait(ctx context.Context) (*store.Client, *store.Writer, error) {
	select {
	case <-s.opened:
		return s.client, s.writer, s.err
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// watch is a runnable that fails when opening the store failed, and otherwise waits for the
// end of ctx: a hub without its store stops instead of idling unready.
func (s *hubStore) watch(ctx context.Context) error {
	if _, _, err := s.wait(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// shutdown waits for the opening to end and closes what it opened.
func (s *hubStore) shutdown() {
	<-s.opened
	s.close()
}

// check is the readiness check: the store is open and answers.
func (s *hubStore) check(req *http.Request) error {
	select {
	case <-s.opened:
	default:
		return errStoreNotOpen
	}
	if s.err != nil {
		return s.err
	}
	ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
	defer cancel()
	_, err := s.client.Revision(ctx)
	return err
}

// connectStore starts the embedded etcd (unless external endpoints are given) and connects to
// it; the returned func closes both.
func connectStore(ctx context.Context, o Options, log *slog.Logger) (*store.Client, func(), error) {
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
