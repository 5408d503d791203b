package system

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/federation/store"
)

// HubConfig says how the harness runs the hub.
type HubConfig struct {
	// Replicas is how many hub processes StartWith runs. More than one is deploy/hub: replicas
	// electing a leader, with the store in an etcd process of its own at StoreURL. Otherwise
	// it is deploy/hub-embedded: one hub embedding its store, served at StoreURL.
	Replicas int
	// Args are added to every hub's arguments, for example the lease timing.
	Args []string
}

// hubs are the hub processes of a federation.
type hubs struct {
	config  HubConfig
	store   *Process // the external etcd, when Replicas > 1
	running []*Hub
	started int // hub processes started so far; names the next replica
	args    []string
}

// Hub is one meshfed-hub process.
type Hub struct {
	*Process
	// Identity is its --identity: the name of the pod it plays. A restarted embedded hub keeps
	// its identity (the same pod, restarted); every replica of the highly available hub gets a
	// new one (a new pod).
	Identity string
	// HealthAddr serves its /healthz and /readyz.
	HealthAddr string
}

// Ready reports whether the hub answers its readiness probe (it reaches its store), as the
// kubelet asks before a rolling update moves on.
func (h *Hub) Ready() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + h.HealthAddr + "/readyz")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// external reports whether the hubs run against an external store.
func (h *hubs) external() bool { return h.config.Replicas > 1 }

// startHubs starts the store, if external, and the configured number of hubs.
func (f *Federation) startHubs() {
	f.t.Helper()
	if f.hubs.external() {
		f.startStore()
	}
	for range max(f.hubs.config.Replicas, 1) {
		f.StartHub()
	}
}

// StartHub starts one more hub process: with the embedded store, the hub again (same identity,
// same data); otherwise a new replica.
func (f *Federation) StartHub() *Hub {
	f.t.Helper()
	args := f.hubArgs()
	identity := "hub-0"
	if f.hubs.external() {
		identity = "hub-" + strconv.Itoa(f.hubs.started)
		args = append(args, "--etcd-endpoints", f.StoreURL)
	}
	f.hubs.started++
	health := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(f.t, "127.0.0.1")))
	args = append(append(args, "--identity", identity, "--health-probe-bind-address", health), f.hubs.config.Args...)
	h := &Hub{
		Identity: identity, HealthAddr: health,
		Process: StartProcess(f.t, identity, filepath.Join(f.dir, identity+".log"), exec.Command(bins.Hub, args...)),
	}
	f.hubs.running = append(f.hubs.running, h)
	return h
}

// hubArgs are the arguments every hub process shares (a copy).
func (f *Federation) hubArgs() []string {
	f.t.Helper()
	if f.hubs.args == nil {
		kc, err := f.Hub.Kubeconfig()
		if err != nil {
			f.t.Fatal(err)
		}
		path := filepath.Join(f.dir, "hub.kubeconfig")
		if err := os.WriteFile(path, kc, 0o600); err != nil {
			f.t.Fatal(err)
		}
		f.hubs.args = []string{
			"--kubeconfig", path, "--metrics-bind-address", "0",
			"--probe-interval", "1s", "--resync", "5s", "--stale-grace", "10m",
		}
		if !f.hubs.external() {
			f.hubs.args = append(f.hubs.args, "--data-dir", filepath.Join(f.dir, "etcd"),
				"--embedded-etcd-client-url", f.StoreURL,
				"--embedded-etcd-peer-url", "http://127.0.0.1:"+strconv.Itoa(freePort(f.t, "127.0.0.1")))
		}
	}
	return slices.Clone(f.hubs.args)
}

// startStore runs etcd (the binary the e2e tools build) as the external store at StoreURL.
func (f *Federation) startStore() {
	f.t.Helper()
	assets, err := framework.AssetsDir()
	if err != nil {
		f.t.Fatal(err)
	}
	peer := "http://127.0.0.1:" + strconv.Itoa(freePort(f.t, "127.0.0.1"))
	cmd := exec.Command(filepath.Join(assets, "etcd"), "--name", "store", "--data-dir", filepath.Join(f.dir, "store"),
		"--listen-client-urls", f.StoreURL, "--advertise-client-urls", f.StoreURL,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "store="+peer,
		"--log-level", "warn")
	f.hubs.store = StartProcess(f.t, "etcd", filepath.Join(f.dir, "etcd.log"), cmd)
	f.Eventually("the store answering", 30*time.Second, func() (bool, string) {
		st, err := f.ConnectStore()
		if err != nil {
			return false, err.Error()
		}
		_ = st.Close()
		return true, ""
	})
}

// ConnectStore opens a client of the federation store; the caller closes it.
func (f *Federation) ConnectStore() (*store.Client, error) {
	cfg := f.StoreClientConfig()
	cfg.DialTimeout = 2 * time.Second
	return store.Connect(f.t.Context(), cfg)
}

// StoreClientConfig is how the tests reach the store: the external etcd as anyone, the
// embedded one as the hub's user, with the certificate the hub issued itself in its data
// directory (the embedded store accepts nothing else).
func (f *Federation) StoreClientConfig() store.ClientConfig {
	cfg := store.ClientConfig{Endpoints: []string{f.StoreURL}}
	if !f.hubs.external() {
		dir := filepath.Join(f.dir, "etcd", "tls")
		cfg.CAFile, cfg.CertFile, cfg.KeyFile = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "hub.crt"), filepath.Join(dir, "hub.key")
	}
	return cfg
}

// StoreSessionTTLs are the TTLs, in seconds, that the sessions of the writers in the store's
// election were granted, by writer identity (the leader key's value). etcd reports the TTL a
// lease was granted with, so this is what the hub asked for, whatever time has passed since.
func (f *Federation) StoreSessionTTLs() (map[string]int64, error) {
	cfg := f.StoreClientConfig()
	tlsCfg, err := cfg.TLSConfig()
	if err != nil {
		return nil, err
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: cfg.Endpoints, TLS: tlsCfg, DialTimeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("failed to connect to store %s: %w", f.StoreURL, err)
	}
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(f.t.Context(), 5*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, store.LeaderPrefix+"/", clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("failed to list store writers %s: %w", store.LeaderPrefix, err)
	}
	ttls := map[string]int64{}
	for _, kv := range resp.Kvs {
		l, err := c.TimeToLive(ctx, clientv3.LeaseID(kv.Lease))
		if err != nil {
			return nil, fmt.Errorf("failed to read the session of store writer %s: %w", kv.Value, err)
		}
		ttls[string(kv.Value)] = l.GrantedTTL
	}
	return ttls, nil
}

// Hubs are the hub processes that have not exited.
func (f *Federation) Hubs() []*Hub {
	var out []*Hub
	for _, h := range f.hubs.running {
		if !h.Exited() {
			out = append(out, h)
		}
	}
	return out
}

// LeaderHub is the running hub holding the hub's Lease, nil if none does.
func (f *Federation) LeaderHub() *Hub {
	ctx, cancel := context.WithTimeout(f.t.Context(), 5*time.Second)
	defer cancel()
	var l coordinationv1.Lease
	if err := f.Hub.Client.Get(ctx, client.ObjectKey{Namespace: wellknown.SystemNamespace, Name: wellknown.HubLeaseName}, &l); err != nil || l.Spec.HolderIdentity == nil {
		return nil
	}
	holder := *l.Spec.HolderIdentity
	id := holder[:max(strings.LastIndex(holder, "_"), 0)] // the hub appends _<random> to its identity
	for _, h := range f.Hubs() {
		if h.Identity == id {
			return h
		}
	}
	return nil
}

// WaitLeader waits until a running hub holds the Lease and returns it.
func (f *Federation) WaitLeader() *Hub {
	f.t.Helper()
	var leader *Hub
	f.Eventually("a hub holding the Lease", 60*time.Second, func() (bool, string) {
		leader = f.LeaderHub()
		return leader != nil, fmt.Sprintf("%d hubs running, none leads", len(f.Hubs()))
	})
	return leader
}

// KillHub ends the leading hub (the only one, with the embedded store) with SIGKILL.
func (f *Federation) KillHub() {
	f.t.Helper()
	if h := f.LeaderHub(); h != nil {
		h.Kill()
		return
	}
	for _, h := range f.Hubs() {
		h.Kill()
	}
}
