package system

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/e2e/netlab"
)

// Ports inside a member's DNS pod.
const (
	// CoreDNSPort is where the member's pods send their queries (their resolv.conf nameserver).
	CoreDNSPort = 53
	// meshfedDNSPort is meshfed-dns's listen port, the target port of its Service (deploy/dns).
	meshfedDNSPort = 5353
	// meshfedDNSAdminPort serves meshfed-dns's /readyz.
	meshfedDNSAdminPort = 8080
	// coreDNSReadyPort serves CoreDNS's ready plugin.
	coreDNSReadyPort = 8181
	// corefilePoll is how often the harness reads the member's CoreDNS ConfigMap.
	corefilePoll = 200 * time.Millisecond
)

// The member's CoreDNS configuration, where kubeadm keeps it.
const (
	coreDNSNamespace = "kube-system"
	coreDNSConfigMap = "coredns"
	corefileKey      = "Corefile"
)

// BaseCorefile is the Corefile each member starts with: kubeadm's, without what the lab cannot
// have. There is no `forward . /etc/resolv.conf` (the lab sends no query outside its own
// namespaces, so names outside the cluster and the federation's zones are not resolved), no
// `loop` (it checks forwarding loops, and nothing is forwarded), and no `reload` (the harness
// signals CoreDNS itself when the ConfigMap changes, which is what `reload` does on a change of
// the file, without its polling interval).
const BaseCorefile = `.:53 {
    errors
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    cache 30
    loadbalance
}
`

// MemberDNS is a member's cluster DNS: a pod on the member's network running the member's
// CoreDNS (with the Corefile read back from the member's kube-system/coredns ConfigMap, which
// the hub edits) and meshfed-dns (reading the member's ServiceImports), as the two Deployments
// would run in a real cluster.
type MemberDNS struct {
	// Pod runs CoreDNS and meshfed-dns.
	Pod *netlab.Pod
	// Addr is CoreDNS's address: the nameserver of every pod of the member.
	Addr netip.AddrPort
	// ServiceIP is the ClusterIP of the meshfed-dns Service, which the hub writes into the
	// Corefile as the forwarding target.
	ServiceIP string

	member     *Member
	corefile   string // the file CoreDNS reads
	kubeconfig string
	coredns    *Process
	meshfed    *Process
	started    time.Time

	mu      sync.Mutex
	applied string // the ConfigMap's Corefile last written to the file
	reloads int    // reloads CoreDNS completed for the harness
}

// startDNS installs the member's DNS and starts it before the member joins: the ConfigMap with
// BaseCorefile and the meshfed-dns Service (as deploy/dns creates it), then the DNS pod with
// meshfed-dns and CoreDNS. waitDNS waits for them and starts following the ConfigMap.
func (f *Federation) startDNS(m *Member) {
	f.t.Helper()
	begin := time.Now()
	bin, err := framework.CoreDNSBinary()
	if err != nil {
		f.t.Fatal(err)
	}
	pod, err := f.Lab.AddPod("dns-"+m.Name, m.Net)
	if err != nil {
		f.t.Fatal(err)
	}
	d := &MemberDNS{
		Pod: pod, Addr: netip.AddrPortFrom(pod.Addr(m.Net), CoreDNSPort), member: m,
		corefile:   filepath.Join(f.dir, "Corefile-"+m.Name),
		kubeconfig: filepath.Join(f.dir, "dns-"+m.Name+".kubeconfig"),
	}
	m.DNS = d
	d.ServiceIP = f.installDNSObjects(m)
	kc, err := m.Cluster.Kubeconfig()
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(d.kubeconfig, kc, 0o600); err != nil {
		f.t.Fatal(err)
	}
	f.relayAPIServer(m, pod)

	listen := netip.AddrPortFrom(pod.Addr(m.Net), meshfedDNSPort).String()
	admin := netip.AddrPortFrom(pod.Addr(m.Net), meshfedDNSAdminPort).String()
	d.meshfed = StartProcess(f.t, "meshfed-dns "+m.Name, filepath.Join(f.dir, "meshfed-dns-"+m.Name+".log"),
		pod.Command(bins.DNS, "--kubeconfig", d.kubeconfig, "--listen-address", listen, "--admin-address", admin, "--shutdown-delay", "0s",
			"--takeover-probe", d.Addr.String(), "--takeover-probe-interval", "1s"))

	if err := d.sync(f.Context()); err != nil {
		f.t.Fatal(err)
	}
	d.coredns = StartProcess(f.t, "coredns "+m.Name, filepath.Join(f.dir, "coredns-"+m.Name+".log"),
		pod.Command(bin, "-conf", d.corefile))
	d.started = begin
}

// waitDNS waits until the member's CoreDNS and meshfed-dns are ready, then starts following
// the ConfigMap (not before: CoreDNS ends on a SIGUSR1 that comes before its handler is set).
func (f *Federation) waitDNS(m *Member) {
	f.t.Helper()
	d := m.DNS
	f.Eventually("DNS of "+m.Name+" ready", 60*time.Second, func() (bool, string) {
		if d.coredns.Exited() || d.meshfed.Exited() {
			f.t.Fatalf("the DNS of %s exited (logs: %s, %s)", m.Name, d.coredns.Log, d.meshfed.Log)
		}
		a := d.get("http://" + netip.AddrPortFrom(d.Addr.Addr(), meshfedDNSAdminPort).String() + "/readyz")
		b := d.get("http://" + netip.AddrPortFrom(d.Addr.Addr(), coreDNSReadyPort).String() + "/ready")
		return a == nil && b == nil, fmt.Sprintf("meshfed-dns: %v; coredns: %v", a, b)
	})
	f.t.Logf("started CoreDNS and meshfed-dns of %s: ready %v after their start", m.Name, time.Since(d.started).Round(time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d.follow(ctx) })
	f.t.Cleanup(func() { cancel(); wg.Wait() })
}

// installDNSObjects creates CoreDNS's ConfigMap with BaseCorefile and the meshfed-dns Service
// (deploy/dns/service.yaml) in m, and returns the Service's ClusterIP.
func (f *Federation) installDNSObjects(m *Member) string {
	f.t.Helper()
	ctx := f.Context()
	for _, ns := range []string{coreDNSNamespace, wellknown.SystemNamespace} {
		if err := m.Client().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
			f.t.Fatal(err)
		}
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: coreDNSNamespace, Name: coreDNSConfigMap},
		Data:       map[string]string{corefileKey: BaseCorefile},
	}
	if err := m.Client().Create(ctx, cm); err != nil {
		f.t.Fatal(err)
	}
	sel := map[string]string{"app.kubernetes.io/name": wellknown.DNSName}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: wellknown.SystemNamespace, Name: wellknown.DNSName, Labels: sel},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: sel, Ports: []corev1.ServicePort{
			{Name: "dns", Port: CoreDNSPort, Protocol: corev1.ProtocolUDP},
			{Name: "dns-tcp", Port: CoreDNSPort, Protocol: corev1.ProtocolTCP},
		}},
	}
	if err := m.Client().Create(ctx, svc); err != nil {
		f.t.Fatal(err)
	}
	if svc.Spec.ClusterIP == "" {
		f.t.Fatalf("the meshfed-dns Service of %s got no ClusterIP", m.Name)
	}
	return svc.Spec.ClusterIP
}

// relayAPIServer makes m's API server reachable inside pod at the address it has on the host
// (loopback): a listener in the pod's namespace whose connections the test process splices
// to the API server. It stands in for the route a pod has to its cluster's API server; TLS and
// authentication are end to end between the programs and the API server.
func (f *Federation) relayAPIServer(m *Member, pod *netlab.Pod) {
	f.t.Helper()
	u, err := url.Parse(m.Cluster.Config.Host)
	if err != nil {
		f.t.Fatal(err)
	}
	l, err := pod.Listen(f.Context(), u.Host)
	if err != nil {
		f.t.Fatalf("failed to relay the API server of %s into %s: %v", m.Name, pod.Name, err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	track := func(c net.Conn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		if add {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	f.t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			track(in, true)
			wg.Go(func() {
				defer track(in, false)
				splice(in, u.Host, track)
			})
		}
	})
}

// splice connects in to addr (dialed from the host) and copies both ways until both are done;
// track registers the outgoing connection while it is open.
func splice(in net.Conn, addr string, track func(net.Conn, bool)) {
	defer func() { _ = in.Close() }()
	out, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return
	}
	track(out, true)
	defer track(out, false)
	defer func() { _ = out.Close() }()
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = io.Copy(out, in)
		_ = out.(*net.TCPConn).CloseWrite()
	})
	_, _ = io.Copy(in, out)
	if tc, ok := in.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	wg.Wait()
}

// get GETs url from inside the DNS pod and wants a 200.
func (d *MemberDNS) get(u string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := &http.Client{Transport: &http.Transport{DialContext: d.Pod.Dial, DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// follow keeps CoreDNS's Corefile equal to the ConfigMap's, until ctx ends.
func (d *MemberDNS) follow(ctx context.Context) {
	tick := time.NewTicker(corefilePoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := d.sync(ctx); err != nil && ctx.Err() == nil {
			d.note("%v", err)
		}
	}
}

// sync reads the member's Corefile and, when it changed, writes it for CoreDNS (translated
// with LabCorefile) and has CoreDNS reload it. Before CoreDNS runs, it only writes the file.
func (d *MemberDNS) sync(ctx context.Context) error {
	var cm corev1.ConfigMap
	key := client.ObjectKey{Namespace: coreDNSNamespace, Name: coreDNSConfigMap}
	if err := d.member.Client().Get(ctx, key, &cm); err != nil {
		return fmt.Errorf("failed to read the CoreDNS ConfigMap of %s: %w", d.member.Name, err)
	}
	text := cm.Data[corefileKey]
	d.mu.Lock()
	same := text == d.applied
	d.mu.Unlock()
	if same {
		return nil
	}
	lab, err := LabCorefile(text, d.kubeconfig, d.ServiceIP, netip.AddrPortFrom(d.Addr.Addr(), meshfedDNSPort).String())
	if err != nil {
		return err
	}
	tmp := d.corefile + ".new"
	if err := os.WriteFile(tmp, []byte(lab), 0o600); err != nil {
		return fmt.Errorf("failed to write the Corefile of %s: %w", d.member.Name, err)
	}
	if err := os.Rename(tmp, d.corefile); err != nil {
		return fmt.Errorf("failed to write the Corefile of %s: %w", d.member.Name, err)
	}
	d.mu.Lock()
	d.applied = text
	d.mu.Unlock()
	if d.coredns == nil {
		return nil
	}
	return d.reload()
}

// reload has CoreDNS read its Corefile again — SIGUSR1, what its reload plugin does on a
// change — and waits until its log says it has.
func (d *MemberDNS) reload() error {
	before := strings.Count(d.readLog(), "Reloading complete")
	if err := d.coredns.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return fmt.Errorf("failed to signal CoreDNS of %s: %w", d.member.Name, err)
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Count(d.readLog(), "Reloading complete") > before {
			d.mu.Lock()
			d.reloads++
			d.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("CoreDNS of %s did not reload its Corefile within 15s (log %s)", d.member.Name, d.coredns.Log)
}

// Reloads counts the Corefile changes CoreDNS has loaded since it started.
func (d *MemberDNS) Reloads() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reloads
}

// Corefile is the member's Corefile CoreDNS runs now (as the ConfigMap holds it).
func (d *MemberDNS) Corefile() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.applied
}

func (d *MemberDNS) readLog() string {
	b, err := os.ReadFile(d.coredns.Log)
	if err != nil {
		return ""
	}
	return string(b)
}

// note appends a line of the harness to CoreDNS's log, which a failing test prints.
func (d *MemberDNS) note(format string, args ...any) {
	f, err := os.OpenFile(d.coredns.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	_, _ = fmt.Fprintf(f, "[harness] "+format+"\n", args...)
	_ = f.Close()
}

// ErrNotKubeadmCorefile reports a Corefile without the kubernetes plugin's block.
var ErrNotKubeadmCorefile = errors.New("no `kubernetes cluster.local ... {` line")

// LabCorefile turns the Corefile of a member's ConfigMap into the one its CoreDNS runs in the
// lab, changing two things a real cluster provides and the lab does not: the kubernetes plugin
// gets `kubeconfig <kubeconfig>` (in a cluster it uses the pod's service account), and every
// forwarding target `<serviceIP>:53` (the meshfed-dns Service, which kube-proxy would carry to
// a meshfed-dns pod) becomes target. Everything else is kept as written.
func LabCorefile(corefile, kubeconfig, serviceIP, target string) (string, error) {
	var b strings.Builder
	found := false
	for line := range strings.Lines(corefile) {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "forward" {
			for i, f := range fields[2:] {
				if f == net.JoinHostPort(serviceIP, strconv.Itoa(CoreDNSPort)) {
					fields[2+i] = target
				}
			}
			indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
			line = indent + strings.Join(fields, " ") + "\n"
		}
		b.WriteString(line)
		if len(fields) >= 3 && fields[0] == "kubernetes" && fields[1] == "cluster.local" && fields[len(fields)-1] == "{" {
			found = true
			b.WriteString("       kubeconfig " + kubeconfig + "\n")
		}
	}
	if !found {
		return "", fmt.Errorf("failed to adapt the Corefile to the lab: %w", ErrNotKubeadmCorefile)
	}
	return b.String(), nil
}

// waypoint returns the waypoint of ns in m, nil if there is none.
func (f *Federation) waypoint(m *Member, ns string) *Waypoint {
	f.wpMu.Lock()
	defer f.wpMu.Unlock()
	return f.waypoints[m.Name+"/"+ns]
}
