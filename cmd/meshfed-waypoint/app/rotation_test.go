package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshfed/meshfed/internal/cutproxy"
	"github.com/meshfed/meshfed/internal/syncbuf"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
	"github.com/meshfed/meshfed/hbone/pki"
	"github.com/meshfed/meshfed/internal/secretvol"
)

// The rotation test's timing: certificates live certValidity and are renewed every
// rotateEvery (at 15% of their life, earlier than the hub's default 67%: the waypoint polls
// its HBONE files every 2s, identity.DefaultReloadInterval, and X.509 encodes NotAfter in whole
// seconds, so a new certificate may take 3s to be served, and a loaded test machine adds to
// that; with the hub's 24h certificates that margin is 8h). A rotation waits until both
// waypoints loaded it, so the next one can come late: the certificates in use must outlive
// that wait, which a machine at load 30-45 can stretch by seconds.
const (
	certValidity = 20 * time.Second
	rotateEvery  = 3 * time.Second
	rotations    = 6
)

// rotationLab is an authenticated embedded etcd, the CA that signs everything, and the files
// each waypoint mounts, written as the kubelet projects Secret volumes.
type rotationLab struct {
	ca        *pki.CA
	endpoint  string // the etcd proxy's URL, which drop cuts: the waypoints connect there
	direct    string // etcd's own URL: the hub connects there
	proxy     *cutproxy.Proxy
	caFile    string
	hub       *store.Writer
	mu        sync.Mutex
	serials   map[string][]string    // serials issued per waypoint and kind ("east/hbone")
	notAfters map[string][]time.Time // expiries of serials
}

func newRotationLab(t *testing.T) *rotationLab {
	t.Helper()
	ca, err := pki.NewCA("rotation test CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	server, err := ca.IssueServer("etcd", []string{"127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"ca.crt": ca.CertPEM(), "server.crt": server.CertPEM, "server.key": server.KeyPEM}
	if err := secretvol.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	emb, err := embedded.Start(t.Context(), embedded.Config{
		DataDir: t.TempDir(), ClientURL: "https://" + freeAddr(t), PeerURL: "http://" + freeAddr(t),
		CertFile: filepath.Join(dir, "server.crt"), KeyFile: filepath.Join(dir, "server.key"), ClientCAFile: filepath.Join(dir, "ca.crt"),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	u, _ := url.Parse(emb.Endpoints()[0])
	lab := &rotationLab{ca: ca, caFile: filepath.Join(dir, "ca.crt"), serials: map[string][]string{}, notAfters: map[string][]time.Time{}}
	lab.proxy = cutproxy.Start(t, u.Host)
	lab.endpoint, lab.direct = "https://"+lab.proxy.Addr(), emb.Endpoints()[0]
	root := lab.connect(t, store.RootUser, "")
	if err := root.EnableAccess(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, cluster := range []string{"east", "west"} {
		if err := root.EnsureWaypointUser(t.Context(), "shop", cluster); err != nil {
			t.Fatal(err)
		}
	}
	lab.hub = store.NewWriter(lab.connect(t, store.HubUser, ""), store.WriterOptions{Identity: "hub", SessionTTL: 10})
	if err := lab.hub.Campaign(t.Context()); err != nil {
		t.Fatal(err)
	}
	return lab
}

// connect connects to the store directly (not through the proxy) as user with a fresh
// certificate.
func (l *rotationLab) connect(t *testing.T, user, scope string) *store.Client {
	t.Helper()
	p, err := l.ca.IssueClient(user, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := secretvol.Write(dir, map[string][]byte{"tls.crt": p.CertPEM, "tls.key": p.KeyPEM}); err != nil {
		t.Fatal(err)
	}
	c, err := store.Connect(t.Context(), store.ClientConfig{
		Endpoints: []string{l.direct}, CAFile: l.caFile, CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"),
		Scope: scope, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// issue writes a new store and HBONE certificate of the shop waypoint of cluster into its two
// Secret directories, as the hub renews them, and records their serials.
func (l *rotationLab) issue(t *testing.T, cluster, etcdDir, certDir string) {
	t.Helper()
	now := time.Now()
	storeBundle, err := l.ca.ClientBundle(store.WaypointUser("shop", cluster), now, certValidity)
	if err != nil {
		t.Fatal(err)
	}
	id := &url.URL{Scheme: "spiffe", Host: "cluster.local", Path: "/ns/shop/sa/" + wellknown.WaypointName}
	hboneBundle, err := l.ca.WorkloadBundle(pki.Workload{ID: id, Cluster: cluster}, nil, now, certValidity)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		kind, dir string
		data      map[string][]byte
	}{{"store", etcdDir, storeBundle}, {"hbone", certDir, hboneBundle}} {
		if err := secretvol.Write(w.dir, w.data); err != nil {
			t.Fatal(err)
		}
		pair, err := tls.X509KeyPair(w.data[pki.CertKey], w.data[pki.KeyKey])
		if err != nil {
			t.Fatal(err)
		}
		l.mu.Lock()
		k := cluster + "/" + w.kind
		l.serials[k] = append(l.serials[k], pair.Leaf.SerialNumber.Text(16))
		l.notAfters[k] = append(l.notAfters[k], pair.Leaf.NotAfter)
		l.mu.Unlock()
	}
}

// logBuffer collects a waypoint's log lines.
type logBuffer struct{ syncbuf.Buffer }

// serials returns the serial=<hex> values of the lines containing msg, in order.
func (b *logBuffer) serials(msg string) []string {
	var out []string
	for line := range strings.SplitSeq(b.String(), "\n") {
		if !strings.Contains(line, msg) {
			continue
		}
		if _, rest, ok := strings.Cut(line, "serial="); ok {
			out = append(out, strings.Fields(rest)[0])
		}
	}
	return out
}

// TestRotationUnderTraffic rotates both certificates of two waypoints on different networks,
// six times, every 3s, each living 10s, written as the kubelet swaps Secret volumes, while
// clients keep opening connections through the west waypoint to a backend that only the east
// waypoint reaches, through an HBONE tunnel; after each rotation every connection to the store
// is cut, so the waypoints reconnect with whatever certificate they hold. No request may fail,
// the east waypoint must present each of its new HBONE certificates, both waypoints must load
// each store certificate, and after every certificate issued before the last rotation has
// expired, tunnels and the store watch still work: only the new certificates can carry them.
func TestRotationUnderTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("rotates certificates for about 30s")
	}
	lab := newRotationLab(t)
	backend := echoBackend(t, "127.0.0.3")
	_, port, _ := net.SplitHostPort(freeAddr(t))
	listenPort, _ := strconv.Atoi(port)
	eastHBONE := strings.Replace(freeHBONEAddr(t), "127.0.0.1", "127.0.0.6", 1)
	lab.writeRecords(t, listenPort, eastHBONE, backend)

	type wp struct {
		cluster, network, listenHost, hbone string
		etcdDir, certDir                    string
		log                                 *logBuffer
		admin                               string
	}
	wps := []*wp{
		{cluster: "east", network: "net-a", listenHost: "127.0.0.5", hbone: eastHBONE},
		{cluster: "west", network: "net-b", listenHost: "127.0.0.1", hbone: strings.Replace(freeHBONEAddr(t), "127.0.0.1", "127.0.0.7", 1)},
	}
	for _, w := range wps {
		w.etcdDir, w.certDir, w.log = filepath.Join(t.TempDir(), "etcd"), filepath.Join(t.TempDir(), "certs"), &logBuffer{}
		lab.issue(t, w.cluster, w.etcdDir, w.certDir)
		o := DefaultOptions(func(string) string { return "" })
		o.Namespace, o.Cluster, o.Network, o.Zone = "shop", w.cluster, w.network, "z1"
		o.EtcdEndpoints, o.EtcdCAFile = []string{lab.endpoint}, filepath.Join(w.etcdDir, "ca.crt")
		o.EtcdCertFile, o.EtcdKeyFile = filepath.Join(w.etcdDir, "tls.crt"), filepath.Join(w.etcdDir, "tls.key")
		o.CertFile, o.KeyFile, o.CAFile = filepath.Join(w.certDir, "tls.crt"), filepath.Join(w.certDir, "tls.key"), filepath.Join(w.certDir, "ca.crt")
		o.HBONEAddress, o.HBONETransport = w.hbone, "h2"
		o.ListenHost, o.AllowLoopbackEndpoints = w.listenHost, true
		w.admin = runReadyLogged(t, o, slog.New(slog.NewTextHandler(w.log, nil)))
	}
	client := "127.0.0.1:" + strconv.Itoa(listenPort)
	waitFor(t, "a first request through the tunnel", func() bool { return echoThrough(client, "first") == nil })

	var total, failed atomic.Int64
	var errMu sync.Mutex
	var errs []string
	ctx, stop := context.WithCancel(t.Context())
	var workers sync.WaitGroup
	for i := range 4 {
		workers.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				total.Add(1)
				if err := echoThrough(client, fmt.Sprintf("req-%d-%d", i, n)); err != nil {
					failed.Add(1)
					errMu.Lock()
					errs = append(errs, time.Now().Format("15:04:05.000")+" "+err.Error())
					errMu.Unlock()
				}
			}
		})
	}
	eastSeen := map[string]bool{}
	tick := time.NewTicker(rotateEvery)
	defer tick.Stop()
	for r := range rotations {
		<-tick.C
		for _, w := range wps {
			lab.issue(t, w.cluster, w.etcdDir, w.certDir)
		}
		// Within the waypoint's 2s poll the east waypoint serves its new HBONE certificate.
		want := lab.last("east/hbone")
		waitFor(t, fmt.Sprintf("east to present HBONE certificate %s (rotation %d)", want, r+1), func() bool {
			got := presentedSerial(t, lab, eastHBONE)
			eastSeen[got] = true
			return got == want
		})
		lab.proxy.Cut()
		// Both waypoints take up this rotation's certificates before the next one: west's
		// HBONE files at its next poll, the store certificates when the cut connections are
		// made again. On a loaded machine either may come after the next tick, which would
		// then skip a certificate the checks below want loaded.
		for _, w := range wps {
			storeSerial, hboneSerial := lab.last(w.cluster+"/store"), lab.last(w.cluster+"/hbone")
			waitFor(t, fmt.Sprintf("%s to load store certificate %s and HBONE certificate %s (rotation %d)", w.cluster, storeSerial, hboneSerial, r+1), func() bool {
				return slices.Contains(w.log.serials("loaded the store client certificate"), storeSerial) &&
					slices.Contains(w.log.serials("Reloaded credentials"), hboneSerial)
			})
		}
	}
	// Every certificate but the last ones has expired after certValidity: what still works now
	// works with the last ones.
	time.Sleep(time.Until(lab.expiryBeforeLast()) + 500*time.Millisecond)
	lab.proxy.Cut()
	// The store watch follows after the reconnection: a second backend shows up.
	backend2 := echoBackend(t, "127.0.0.4")
	lab.writeEndpoints(t, backend, backend2)
	waitFor(t, "the east waypoint to learn the second backend from the store", func() bool {
		return strings.Contains(getBody(t, wps[0].admin+"/debug/endpoints"), "127.0.0.4")
	})
	time.Sleep(time.Second)
	stop()
	workers.Wait()

	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed: %s", failed.Load(), total.Load(), strings.Join(errs[:min(len(errs), 10)], "; "))
		for _, w := range wps {
			t.Logf("%s waypoint's log:\n%s", w.cluster, w.log.String())
		}
	}
	if total.Load() < 100 {
		t.Errorf("only %d requests ran", total.Load())
	}
	for _, w := range wps {
		issued := lab.all(w.cluster + "/store")
		loaded := w.log.serials("loaded the store client certificate")
		if !containsAll(loaded, issued[1:]) {
			t.Errorf("%s loaded store certificates %v, want every one issued %v", w.cluster, loaded, issued)
		}
		hbone := w.log.serials("Reloaded credentials")
		if !containsAll(hbone, lab.all(w.cluster + "/hbone")[1:]) {
			t.Errorf("%s reloaded HBONE certificates %v, want every one issued after the first %v", w.cluster, hbone, lab.all(w.cluster+"/hbone"))
		}
	}
	t.Logf("rotations %d (2 waypoints x store + HBONE), requests %d, failed %d, east HBONE serials presented %d",
		rotations, total.Load(), failed.Load(), len(eastSeen))
}

// echoThrough sends msg through a new connection to addr and checks the echo.
func echoThrough(addr, msg string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	_ = c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if string(got) != msg {
		return fmt.Errorf("echo %q, want %q", got, msg)
	}
	return nil
}

// presentedSerial is the serial of the certificate the HBONE server at addr presents now.
func presentedSerial(t *testing.T, lab *rotationLab, addr string) string {
	t.Helper()
	p, err := lab.ca.IssueWorkload(pki.Workload{ID: &url.URL{Scheme: "spiffe", Host: "cluster.local", Path: "/ns/probe/sa/probe"}}, nil, time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(lab.ca.Cert)
	c, err := tls.Dial("tcp", addr, &tls.Config{
		MinVersion: tls.VersionTLS13, NextProtos: []string{"h2"}, Certificates: []tls.Certificate{pair},
		InsecureSkipVerify: true, //nolint:gosec // the test reads the presented certificate only
	})
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
}

func (l *rotationLab) last(k string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.serials[k]
	return s[len(s)-1]
}

func (l *rotationLab) all(k string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.serials[k]...)
}

// expiryBeforeLast is when the last of the certificates issued before the last rotation
// expires.
func (l *rotationLab) expiryBeforeLast() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last time.Time
	for _, na := range l.notAfters {
		if prev := na[len(na)-2]; prev.After(last) {
			last = prev
		}
	}
	return last
}

func containsAll(have, want []string) bool {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

// writeRecords publishes the echo service (imported by west from east), east's endpoint on
// backend and east's waypoint at hboneAddr on network net-a.
func (l *rotationLab) writeRecords(t *testing.T, port int, hboneAddr string, backend netipPort) {
	t.Helper()
	recs := []store.Record{
		store.NewServiceRecord(&model.PublishedService{
			GlobalService: model.GlobalService{
				Namespace: "shop", Name: "echo", Domain: wellknown.DefaultSegmentDomain, Hostname: "echo.shop." + wellknown.DefaultSegmentDomain,
				Scope: model.ScopeGlobal, Type: model.ServiceTypeClusterSetIP,
				Ports:        []model.Port{{Name: "tcp", Port: 80, Protocol: "TCP"}},
				Distribution: model.Distribution{Mode: model.ModePreferClose},
				Imports:      []model.Import{{Cluster: "east", From: []string{"east"}}, {Cluster: "west", From: []string{"east"}}},
			},
			WaypointPorts: []int32{int32(port)},
		}),
		store.NewWaypointsRecord(&model.PublishedWaypoints{Namespace: "shop", Cluster: "east", Network: "net-a", Addresses: []string{hboneAddr}}),
	}
	for _, r := range recs {
		if _, err := l.hub.Put(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	l.writeEndpoints(t, backend)
}

// writeEndpoints publishes east's endpoints of echo on backends.
func (l *rotationLab) writeEndpoints(t *testing.T, backends ...netipPort) {
	t.Helper()
	var eps []model.Endpoint
	for _, b := range backends {
		eps = append(eps, model.Endpoint{
			Address: b.host, Ports: []model.EndpointPort{{Name: "tcp", Port: int32(b.port)}},
			Locality: model.Locality{Network: "net-a", Zone: "z1", Cluster: "east"}, Ready: true, Serving: true,
		})
	}
	r := store.NewEndpointsRecord(&model.PublishedEndpoints{
		Namespace: "shop", Domain: wellknown.DefaultSegmentDomain, Name: "echo", Cluster: "east", Scope: model.ScopeGlobal, Endpoints: eps,
	})
	if _, err := l.hub.Put(t.Context(), r); err != nil {
		t.Fatal(err)
	}
}

// runReadyLogged is runReady with the waypoint logging to log.
func runReadyLogged(t *testing.T, o Options, log *slog.Logger) string {
	t.Helper()
	o.AdminAddr = freeAddr(t)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, o, log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("waypoint: %v", err)
		}
	})
	admin := "http://" + o.AdminAddr
	waitFor(t, "readyz", func() bool { return get(admin+"/readyz") == 200 })
	return admin
}
