package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/meshfed/meshfed/federation/store/internal/etcdlog"
)

// DefaultDialTimeout bounds how long Connect waits for the first answer from etcd.
const DefaultDialTimeout = 5 * time.Second

// ClientConfig says how to reach an etcd cluster.
type ClientConfig struct {
	// Endpoints are the etcd client URLs (http:// or https://).
	Endpoints []string
	// CAFile is the PEM bundle that verifies the servers; empty means the system roots when any
	// TLS file is set.
	CAFile string
	// CertFile and KeyFile are the client certificate and key for mutual TLS.
	CertFile string
	KeyFile  string
	// ServerName overrides the name verified in the server certificate.
	ServerName string
	// Username and Password authenticate with etcd's role-based access control, if enabled.
	// Without them, an etcd with --client-cert-auth takes the user from the client
	// certificate's Common Name.
	Username string
	Password string
	// PasswordFile, when set, holds Password (surrounding white space is dropped), so that it
	// comes from a mounted Secret rather than a command line.
	PasswordFile string
	// Scope is the prefix this client reads, at least the range its etcd role may read: Connect
	// and Revision probe the single key Scope, so that a waypoint whose role reads only
	// NamespacePrefix(ns) can connect. Empty means Root (the hub, which reads everything).
	Scope string
	// DialTimeout bounds Connect; 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// Logger receives etcd client warnings; nil means slog.Default().
	Logger *slog.Logger
}

// Client is a connection to the federation store. It reads (Get, List, Watch); NewWriter turns
// it into a fenced writer.
type Client struct {
	etcd  *clientv3.Client
	log   *slog.Logger
	scope string
	// chunks are the chunks this client's listings decoded.
	chunks chunkCache
}

// Connect opens a client and waits, up to DialTimeout, until etcd answers a read.
func Connect(ctx context.Context, cfg ClientConfig) (*Client, error) {
	endpoints := strings.Join(cfg.Endpoints, ",")
	scope := cmp.Or(cfg.Scope, Root)
	if !strings.HasPrefix(scope, Root) {
		return nil, fmt.Errorf("failed to connect to etcd %s: scope %q not under %s: %w", endpoints, scope, Root, ErrMalformedKey)
	}
	tlsCfg, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	if err := cfg.loadPassword(); err != nil {
		return nil, err
	}
	timeout := cfg.DialTimeout
	if timeout == 0 {
		timeout = DefaultDialTimeout
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            cfg.Endpoints,
		TLS:                  tlsCfg,
		Username:             cfg.Username,
		Password:             cfg.Password,
		DialTimeout:          timeout,
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second,
		Logger:               etcdlog.NewLogger(cfg.Logger, nil),
		Context:              context.WithoutCancel(ctx),
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create etcd client %s: %w", endpoints, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Client{etcd: cli, log: log.With("component", "store"), scope: scope}
	pingCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := c.Revision(pingCtx); err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("failed to reach etcd %s: %w", endpoints, err)
	}
	return c, nil
}

// Close closes the connection; watches and writers built on it stop.
func (c *Client) Close() error {
	if err := c.etcd.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("failed to close etcd client %s: %w", strings.Join(c.etcd.Endpoints(), ","), err)
	}
	return nil
}

// Revision returns the store's current revision, for example to report a watcher's lag. It
// reads the one key ClientConfig.Scope (which need not exist), so it needs only the read
// permission the client's role has anyway.
func (c *Client) Revision(ctx context.Context) (int64, error) {
	resp, err := c.etcd.Get(ctx, c.scope, clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("failed to read revision %s: %w", c.scope, err)
	}
	return resp.Header.Revision, nil
}

// TLSConfig is the TLS configuration Connect uses for cfg, for a tool that talks to the same
// etcd with its own client; nil when cfg sets no TLS file.
func (cfg ClientConfig) TLSConfig() (*tls.Config, error) { return cfg.tlsConfig() }

// tlsConfig builds the client TLS configuration, or nil when no TLS file is set and every
// endpoint is plain http.
func (cfg ClientConfig) tlsConfig() (*tls.Config, error) {
	if cfg.CAFile == "" && cfg.CertFile == "" && cfg.KeyFile == "" && !anyHTTPS(cfg.Endpoints) {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.ServerName}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("failed to read CA file %s: %w", cfg.CAFile, err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("failed to parse CA file %s: no PEM certificate", cfg.CAFile)
		}
	}
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		f := &certFiles{cert: cfg.CertFile, key: cfg.KeyFile, log: cmp.Or(cfg.Logger, slog.Default())}
		if _, err := f.load(); err != nil {
			return nil, err
		}
		t.GetClientCertificate = f.get
	}
	return t, nil
}

// certFiles is a client certificate read from its files at every TLS handshake, so that a
// certificate renewed on disk (a Secret volume the kubelet swaps atomically, cert-manager)
// serves every connection made after the swap without a restart. A handshake happens when
// the client (re)connects; established connections keep the certificate they were made with,
// which etcd does not check again.
type certFiles struct {
	cert, key string
	log       *slog.Logger

	mu   sync.Mutex
	last *tls.Certificate
}

// load reads the key pair, remembers it and logs a new certificate.
func (f *certFiles) load() (*tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return nil, fmt.Errorf("failed to load client certificate %s: %w", f.cert, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil || !bytes.Equal(f.last.Certificate[0], pair.Certificate[0]) {
		f.log.Info("loaded the store client certificate", "file", f.cert, "serial", pair.Leaf.SerialNumber.Text(16),
			"notAfter", pair.Leaf.NotAfter.Format(time.RFC3339))
	}
	f.last = &pair
	return f.last, nil
}

// get is the handshake's GetClientCertificate: the files as they are now or, while they do not
// load (a swap between reading the certificate and the key), the last pair that did.
func (f *certFiles) get(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	pair, err := f.load()
	if err == nil {
		return pair, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log.Warn("presenting the previous store client certificate", "error", err)
	return f.last, nil
}

// errPlainPassword refuses to send a password over plain http.
var errPlainPassword = errors.New("a user name and password need https endpoints")

// loadPassword reads PasswordFile into Password and refuses a password over plain http.
func (cfg *ClientConfig) loadPassword() error {
	if cfg.PasswordFile != "" {
		b, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return fmt.Errorf("failed to read password file %s: %w", cfg.PasswordFile, err)
		}
		cfg.Password = strings.TrimSpace(string(b))
	}
	if cfg.Username == "" && cfg.Password == "" {
		return nil
	}
	for _, e := range cfg.Endpoints {
		if !strings.HasPrefix(e, "https://") {
			return fmt.Errorf("failed to connect to etcd %s as %s: %w", e, cfg.Username, errPlainPassword)
		}
	}
	return nil
}

func anyHTTPS(endpoints []string) bool {
	for _, e := range endpoints {
		if strings.HasPrefix(e, "https://") {
			return true
		}
	}
	return false
}
