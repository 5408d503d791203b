package app

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/federation/dns/corefile"
	"github.com/meshfed/meshfed/internal/syncbuf"
)

// TestThroughCoreDNS puts a real CoreDNS in front of meshfed-dns as a member cluster would: its
// Corefile is the kubeadm one (the kubernetes plugin serving cluster.local from the test's API
// server) plus meshfed's blocks from corefile.Block and corefile.Apply. Clients ask CoreDNS only.
// The federation names are forwarded to meshfed-dns; cluster.local names stay local until the
// takeover block for web.shop.svc.cluster.local is applied, then that one name (and no other)
// reaches the global service; removing the block gives it back.
func TestThroughCoreDNS(t *testing.T) {
	coredns, err := framework.CoreDNSBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := framework.Start(t, 1, framework.WithNames("east-1"), framework.WithoutRepoCRDs())[0]
	ctx := t.Context()
	if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	local := createService(t, c.Client, "web")              // the member's own shop/web
	other := createService(t, c.Client, "api")              // a Service nobody takes over
	derived := createService(t, c.Client, "web-global")     // the hub's derived Service
	si := testImport("shop", "web", derived.Spec.ClusterIP) // the hub's ServiceImport
	if err := c.Client.Create(ctx, si); err != nil {
		t.Fatal(err)
	}

	if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: wellknown.SystemNamespace}}); err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.ListenAddress, o.AdminAddress = freePort(t), "0"
	o.Kubeconfig = c.KubeconfigFile(t)
	o.ShutdownDelay = 0
	cd := startCoreDNS(t, coredns, o.Kubeconfig)
	o.TakeoverProbe, o.TakeoverProbeInterval = cd.addr, 200*time.Millisecond
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, o, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("meshfed-dns: %v", err)
		}
	})

	cfg := corefile.Config{Zones: []string{wellknown.DefaultSegmentDomain, wellknown.ClusterSetDomain}, Upstreams: []string{o.ListenAddress}, Port: cd.port}
	cd.write(t, cfg)
	cd.start(t)

	cd.expect(t, "web.shop.svc.cluster.local.", dns.TypeA, local.Spec.ClusterIP) // the kubernetes plugin
	cd.expect(t, "web.shop.mesh.internal.", dns.TypeA, derived.Spec.ClusterIP)   // forwarded
	cd.expect(t, "web.shop.svc.clusterset.local.", dns.TypeA, derived.Spec.ClusterIP)
	cd.expect(t, "_http._tcp.web.shop.svc.clusterset.local.", dns.TypeSRV, "80 web.shop.svc.clusterset.local.")
	cd.expect(t, "web.shop.svc.clusterset.local.", dns.TypeSRV, "80 web.shop.svc.clusterset.local.")
	cd.expect(t, "nope.shop.mesh.internal.", dns.TypeA, "NXDOMAIN")
	cd.expect(t, "dns-version.clusterset.local.", dns.TypeTXT, "1.0.0")

	// Takeover on: the hub sets the annotation, then meshfedctl adds the name's block.
	si.Annotations[wellknown.TakeoverAnnotation] = "true"
	if err := c.Client.Update(ctx, si); err != nil {
		t.Fatal(err)
	}
	// meshfed-dns answers the name at once, but CoreDNS does not forward it yet: not confirmed.
	expectDirect(t, o.ListenAddress, "web.shop.svc.cluster.local.", derived.Spec.ClusterIP)
	time.Sleep(5 * o.TakeoverProbeInterval)
	if got, err := confirmedTakeovers(c.Client); err != nil || len(got) != 0 {
		t.Errorf("takeover confirmed as %v (%v) before CoreDNS forwards the name", got, err)
	}
	cfg.TakeoverNames = []string{"web.shop.svc.cluster.local"}
	cd.write(t, cfg)
	cd.reload(t)
	cd.expect(t, "web.shop.svc.cluster.local.", dns.TypeA, derived.Spec.ClusterIP)
	awaitConfirmed(t, c.Client, "[web.shop.svc.cluster.local]")
	cd.expect(t, "api.shop.svc.cluster.local.", dns.TypeA, other.Spec.ClusterIP)
	cd.expect(t, "web-global.shop.svc.cluster.local.", dns.TypeA, derived.Spec.ClusterIP)

	// Takeover off: the block goes first (the annotation may follow; without the block it is unused).
	cfg.TakeoverNames = nil
	cd.write(t, cfg)
	cd.reload(t)
	cd.expect(t, "web.shop.svc.cluster.local.", dns.TypeA, local.Spec.ClusterIP)
	awaitConfirmed(t, c.Client, "[]")

	// Unjoin: meshfed's blocks removed, the Corefile is the kubeadm one again.
	removed, err := corefile.Remove(cd.read(t))
	if err != nil {
		t.Fatal(err)
	}
	if removed != cd.base {
		t.Errorf("Corefile after Remove differs from the original:\n%s", removed)
	}
	cd.writeText(t, removed)
	cd.reload(t)
	cd.expect(t, "web.shop.svc.cluster.local.", dns.TypeA, local.Spec.ClusterIP)
	cd.expectNot(t, "web.shop.mesh.internal.", dns.TypeA, derived.Spec.ClusterIP)
}

// expectDirect asks meshfed-dns itself for name's A record and wants ip.
func expectDirect(t *testing.T, addr, name, ip string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req := new(dns.Msg)
		req.SetQuestion(name, dns.TypeA)
		resp, _, err := (&dns.Client{Timeout: time.Second}).Exchange(req, addr)
		if err == nil && len(resp.Answer) == 1 && strings.HasSuffix(resp.Answer[0].String(), "\t"+ip) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("meshfed-dns answers %s with %v (%v), want %s", name, resp, err, ip)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// confirmedTakeovers returns the names meshfed-dns recorded as answered alike by CoreDNS.
func confirmedTakeovers(c client.Client) ([]string, error) {
	var cm corev1.ConfigMap
	err := c.Get(context.Background(), client.ObjectKey{Namespace: wellknown.SystemNamespace, Name: wellknown.DNSTakeoverConfigMap}, &cm)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(cm.Data)), nil
}

// awaitConfirmed waits until the recorded names print as want; a failed read (a loaded API
// server) is retried until the deadline.
func awaitConfirmed(t *testing.T, c client.Client, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		names, err := confirmedTakeovers(c)
		got := fmt.Sprint(names)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("confirmed takeovers %s (%v), want %s", got, err, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func createService(t *testing.T, c client.Client, name string) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}, Selector: map[string]string{"app": name}},
	}
	if err := c.Create(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP == "" {
		t.Fatalf("Service %s got no ClusterIP", name)
	}
	return svc
}

// coreDNS is one CoreDNS process on loopback with its Corefile in a temporary directory.
type coreDNS struct {
	bin, dir, path, base string
	port                 int
	addr                 string
	cmd                  *exec.Cmd
	out                  *syncbuf.Buffer
}

// startCoreDNS prepares a CoreDNS whose base Corefile is kubeadm's, serving cluster.local from
// the API server of kubeconfig (no forwarding of other names: the test sends nothing outside).
func startCoreDNS(t *testing.T, bin, kubeconfig string) *coreDNS {
	t.Helper()
	_, portText, err := net.SplitHostPort(freePort(t))
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portText)
	dir := t.TempDir()
	base := `.:` + portText + ` {
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       kubeconfig ` + kubeconfig + ` east-1
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loadbalance
}
`
	return &coreDNS{bin: bin, dir: dir, path: filepath.Join(dir, "Corefile"), base: base, port: port, addr: net.JoinHostPort("127.0.0.1", portText), out: &syncbuf.Buffer{}}
}

func (cd *coreDNS) read(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(cd.path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// write applies meshfed's blocks for cfg to the current Corefile (the base one at first).
func (cd *coreDNS) write(t *testing.T, cfg corefile.Config) {
	t.Helper()
	current := cd.base
	if b, err := os.ReadFile(cd.path); err == nil {
		current = string(b)
	}
	block, err := corefile.Block(cfg)
	if err != nil {
		t.Fatal(err)
	}
	next, err := corefile.Apply(current, block)
	if err != nil {
		t.Fatal(err)
	}
	cd.writeText(t, next)
}

func (cd *coreDNS) writeText(t *testing.T, text string) {
	t.Helper()
	if err := os.WriteFile(cd.path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (cd *coreDNS) start(t *testing.T) {
	t.Helper()
	cd.cmd = exec.Command(cd.bin, "-conf", cd.path)
	cd.cmd.Dir = cd.dir
	cd.cmd.Stdout, cd.cmd.Stderr = cd.out, cd.out
	cd.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cd.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cd.cmd.Process.Signal(syscall.SIGTERM)
		_ = cd.cmd.Wait()
		if t.Failed() {
			t.Logf("CoreDNS output:\n%s", cd.out.String())
		}
	})
}

// reload makes CoreDNS read its Corefile again (SIGUSR1, as its reload plugin does on a change)
// and waits until it has.
func (cd *coreDNS) reload(t *testing.T) {
	t.Helper()
	before := strings.Count(cd.out.String(), "Reloading complete")
	if err := cd.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(cd.out.String(), "Reloading complete") == before {
		if time.Now().After(deadline) {
			t.Fatalf("CoreDNS did not reload:\n%s", cd.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// answer asks CoreDNS and renders the first answer (address, SRV port and target, TXT), or the
// rcode when it is not NOERROR.
func (cd *coreDNS) answer(qname string, qtype uint16) string {
	req := new(dns.Msg)
	req.SetQuestion(qname, qtype)
	resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(req, cd.addr)
	switch {
	case err != nil:
		return err.Error()
	case resp.Rcode != dns.RcodeSuccess:
		return dns.RcodeToString[resp.Rcode]
	case len(resp.Answer) == 0:
		return "NODATA"
	}
	switch rr := resp.Answer[0].(type) {
	case *dns.A:
		return rr.A.String()
	case *dns.SRV:
		return strconv.Itoa(int(rr.Port)) + " " + rr.Target
	case *dns.TXT:
		return strings.Join(rr.Txt, " ")
	default:
		return rr.String()
	}
}

// expect waits up to 30 s (CoreDNS starting, its kubernetes plugin syncing) for want.
func (cd *coreDNS) expect(t *testing.T, qname string, qtype uint16, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := cd.answer(qname, qtype)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("CoreDNS answers %s %s with %q, want %q", qname, dns.TypeToString[qtype], got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (cd *coreDNS) expectNot(t *testing.T, qname string, qtype uint16, unwanted string) {
	t.Helper()
	if got := cd.answer(qname, qtype); got == unwanted {
		t.Errorf("CoreDNS still answers %s %s with %q", qname, dns.TypeToString[qtype], got)
	}
}
