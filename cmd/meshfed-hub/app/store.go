package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"

	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
	"github.com/meshfed/meshfed/hbone/pki"
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
	// provisioned closes when the provisioning of waypoint users (embedded store with access
	// control only) has stopped; stopProvision stops it.
	provisioned   chan struct{}
	stopProvision context.CancelFunc
	// ca is the hub's CA when it serves the embedded store over TLS: the leader issues the
	// waypoints' credentials with it (issuer). Set before opened closes.
	ca *pki.CA
}

// openStore starts opening the store: the embedded etcd (unless external endpoints are given),
// a client and the writer of identity. Then, with the embedded store, it evicts every writer
// found there (see Run) and hands their identities to departed; with its access control on, it
// gives every published waypoint its etcd user until shutdown.
func openStore(ctx context.Context, cfg *rest.Config, o Options, identity string, departed func(ids ...string), log *slog.Logger) *hubStore {
	provisionCtx, stop := context.WithCancel(ctx)
	s := &hubStore{opened: make(chan struct{}), close: func() {}, provisioned: make(chan struct{}), stopProvision: stop}
	go func() {
		defer close(s.opened)
		conn, err := connectStore(ctx, cfg, o, log)
		if err != nil {
			close(s.provisioned)
			s.err = err // s.close stays a no-op: nothing was opened
			return
		}
		s.client, s.close, s.ca = conn.client, conn.close, conn.ca
		if conn.root == nil {
			close(s.provisioned)
		} else {
			go func() {
				defer close(s.provisioned)
				provisionWaypointUsers(provisionCtx, conn.client, conn.root, o.WaypointUserGrace, log)
			}()
		}
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

// shutdown waits for the opening to end, stops the provisioning of waypoint users and closes
// what it opened.
func (s *hubStore) shutdown() {
	<-s.opened
	s.stopProvision()
	<-s.provisioned
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

// embeddedCertValidity is the lifetime of the certificates the hub issues for its embedded
// etcd (serving, root and hub clients); they are issued anew at every start.
const embeddedCertValidity = 365 * 24 * time.Hour

// hubService is the Service through which members reach the embedded etcd (deploy/hub-embedded).
const hubService = "meshfed-hub"

// storeConn is the hub's connection to the store: the client it reads and writes with and, for
// the embedded etcd, a root client that manages the waypoints' users.
type storeConn struct {
	client *store.Client
	root   *store.Client
	ca     *pki.CA
	close  func()
}

// connectStore starts the embedded etcd (unless external endpoints are given) and connects to
// it. The embedded etcd serves mutual TLS with etcd auth on, from certificates the hub issues
// with its CA, unless --embedded-etcd-insecure.
func connectStore(ctx context.Context, cfg *rest.Config, o Options, log *slog.Logger) (*storeConn, error) {
	if len(o.EtcdEndpoints) > 0 {
		st, err := store.Connect(ctx, store.ClientConfig{
			Endpoints: o.EtcdEndpoints, CAFile: o.EtcdCAFile, CertFile: o.EtcdCertFile, KeyFile: o.EtcdKeyFile,
			Username: o.EtcdUsername, PasswordFile: o.EtcdPasswordFile, Logger: log,
		})
		if err != nil {
			return nil, fmt.Errorf("failed to connect to the federation store: %w", err)
		}
		return &storeConn{client: st, close: func() { _ = st.Close() }}, nil
	}
	if o.EmbeddedInsecure {
		log.Warn("the embedded etcd serves plain HTTP without authentication (--embedded-etcd-insecure): anyone who reaches it can read and forge the store")
		return openEmbedded(ctx, o, embedded.Config{}, nil, log)
	}
	ca, err := loadOrCreateCA(ctx, cfg, o.Namespace, o.CASecret, log)
	if err != nil {
		return nil, err
	}
	files, err := writeEmbeddedCerts(ca, o)
	if err != nil {
		return nil, err
	}
	conn, err := openEmbedded(ctx, o, embedded.Config{CertFile: files.serverCert, KeyFile: files.serverKey, ClientCAFile: files.ca}, &files, log)
	if err != nil {
		return nil, err
	}
	conn.ca = ca
	return conn, nil
}

// openEmbedded starts the embedded etcd with tlsCfg's TLS files and connects to it: as the hub
// (and as root, after enabling access) when files are given, anonymously otherwise.
func openEmbedded(ctx context.Context, o Options, tlsCfg embedded.Config, files *embeddedCerts, log *slog.Logger) (*storeConn, error) {
	tlsCfg.DataDir, tlsCfg.ClientURL, tlsCfg.PeerURL, tlsCfg.Logger = o.DataDir, o.EmbeddedClientURL, o.EmbeddedPeerURL, log
	emb, err := embedded.Start(ctx, tlsCfg)
	if err != nil {
		return nil, fmt.Errorf("failed to start embedded etcd in %s: %w", o.DataDir, err)
	}
	conn := &storeConn{}
	conn.close = func() {
		for _, c := range []*store.Client{conn.client, conn.root} {
			if c != nil {
				_ = c.Close()
			}
		}
		// The hub closes its store last, just before it exits: waiting for the waypoints'
		// watches to end would only keep the successor from the data dir (the new pod of a
		// Recreate Deployment starts after this one exited).
		if o.EmbeddedStopWait == 0 {
			emb.Close()
		} else if !emb.CloseWithin(o.EmbeddedStopWait) {
			log.Info("embedded etcd still closing client streams; exiting without waiting (etcd recovers from its log at the next start)", "waited", o.EmbeddedStopWait)
		}
	}
	cc := store.ClientConfig{Endpoints: loopbackEndpoints(emb.Endpoints()), Logger: log}
	if files != nil {
		cc.CAFile = files.ca
		cc.CertFile, cc.KeyFile = files.rootCert, files.rootKey
		if conn.root, err = store.Connect(ctx, cc); err == nil {
			err = conn.root.EnableAccess(ctx)
		}
		if err != nil {
			conn.close()
			return nil, fmt.Errorf("failed to enable access control on the embedded etcd: %w", err)
		}
		cc.CertFile, cc.KeyFile = files.hubCert, files.hubKey
	}
	if conn.client, err = store.Connect(ctx, cc); err != nil {
		conn.close()
		return nil, fmt.Errorf("failed to connect to the federation store: %w", err)
	}
	return conn, nil
}

// embeddedCerts are the files of the embedded etcd's TLS, under <data-dir>/tls.
type embeddedCerts struct {
	ca, serverCert, serverKey, rootCert, rootKey, hubCert, hubKey string
}

// writeEmbeddedCerts issues the embedded etcd's serving certificate and the hub's root and
// meshfed-hub client certificates from ca, and writes them with the CA certificate.
func writeEmbeddedCerts(ca *pki.CA, o Options) (embeddedCerts, error) {
	dir := filepath.Join(o.DataDir, "tls")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return embeddedCerts{}, fmt.Errorf("failed to create directory %s: %w", dir, err)
	}
	now := time.Now()
	server, err := ca.IssueServer("meshfed-hub etcd", o.embeddedSANs(), now, embeddedCertValidity)
	if err != nil {
		return embeddedCerts{}, err
	}
	root, err := ca.IssueClient(store.RootUser, now, embeddedCertValidity)
	if err != nil {
		return embeddedCerts{}, err
	}
	hub, err := ca.IssueClient(store.HubUser, now, embeddedCertValidity)
	if err != nil {
		return embeddedCerts{}, err
	}
	f := embeddedCerts{}
	writes := []struct {
		path *string
		name string
		data []byte
	}{
		{&f.ca, "ca.crt", ca.CertPEM()},
		{&f.serverCert, "server.crt", server.CertPEM}, {&f.serverKey, "server.key", server.KeyPEM},
		{&f.rootCert, "root.crt", root.CertPEM}, {&f.rootKey, "root.key", root.KeyPEM},
		{&f.hubCert, "hub.crt", hub.CertPEM}, {&f.hubKey, "hub.key", hub.KeyPEM},
	}
	for _, w := range writes {
		*w.path = filepath.Join(dir, w.name)
		if err := os.WriteFile(*w.path, w.data, 0o600); err != nil {
			return embeddedCerts{}, fmt.Errorf("failed to write %s: %w", *w.path, err)
		}
	}
	return f, nil
}

// embeddedSANs are the names the embedded etcd's certificate is valid for: loopback, the hub
// Service in its namespace, the client URL's host unless it is a wildcard, and --embedded-etcd-san.
func (o *Options) embeddedSANs() []string {
	sans := []string{"localhost", "127.0.0.1", "::1",
		hubService + "." + o.Namespace + ".svc", hubService + "." + o.Namespace + ".svc.cluster.local"}
	if u, err := url.Parse(o.EmbeddedClientURL); err == nil {
		if h := u.Hostname(); h != "" && h != "0.0.0.0" && h != "::" {
			sans = append(sans, h)
		}
	}
	return append(sans, o.EmbeddedSANs...)
}

// loopbackEndpoints are the embedded etcd's endpoints as the hub itself reaches them: a
// wildcard listen address (0.0.0.0, [::]) is dialled on 127.0.0.1, which the serving
// certificate names.
func loopbackEndpoints(endpoints []string) []string {
	out := make([]string, 0, len(endpoints))
	for _, e := range endpoints {
		u, err := url.Parse(e)
		if err == nil && net.ParseIP(u.Hostname()) != nil && net.ParseIP(u.Hostname()).IsUnspecified() {
			u.Host = net.JoinHostPort("127.0.0.1", u.Port())
			e = u.String()
		}
		out = append(out, e)
	}
	return out
}
