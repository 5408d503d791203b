package dnsbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
)

// env is one run's world: an API server holding the ServiceImports, meshfed-dns reading them,
// CoreDNS reading the zone files, all on loopback.
type env struct {
	dir        string
	api        *envtest.Environment
	client     client.Client
	kubeconfig string
	meshfed    *proc
	coredns    *proc
	log        *slog.Logger
}

// newEnv starts the API server; the servers start later.
func newEnv(log *slog.Logger) (*env, error) {
	dir, err := os.MkdirTemp("", "meshfed-bench-dns-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, log: log}
	if err := e.startAPIServer(); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *env) close() {
	for _, p := range []*proc{e.meshfed, e.coredns} {
		if p != nil {
			p.stop()
		}
	}
	if e.api != nil {
		if err := e.api.Stop(); err != nil {
			e.log.Warn("failed to stop the API server", "error", err)
		}
	}
	_ = os.RemoveAll(e.dir)
}

func (e *env) startAPIServer() error {
	assets, err := framework.AssetsDir()
	if err != nil {
		return err
	}
	crds, err := framework.MCSCRDs()
	if err != nil {
		return err
	}
	scheme, err := framework.NewScheme()
	if err != nil {
		return err
	}
	e.api = &envtest.Environment{
		BinaryAssetsDirectory: assets, Scheme: scheme,
		CRDInstallOptions:        envtest.CRDInstallOptions{CRDs: crds, MaxTime: 2 * time.Minute},
		ControlPlaneStartTimeout: 2 * time.Minute, ControlPlaneStopTimeout: 10 * time.Second,
	}
	cfg, err := e.api.Start()
	if err != nil {
		return fmt.Errorf("failed to start kube-apiserver and etcd from %s (build them with `make tools`): %w", assets, err)
	}
	if e.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	return e.writeKubeconfig(cfg)
}

func (e *env) writeKubeconfig(cfg *rest.Config) error {
	data, err := framework.Kubeconfig("bench", cfg)
	if err != nil {
		return err
	}
	e.kubeconfig = filepath.Join(e.dir, "kubeconfig")
	return os.WriteFile(e.kubeconfig, data, 0o600)
}

// createImports writes the ServiceImports the hub would write for n services, 16 at a time.
func (e *env) createImports(ctx context.Context, n int) error {
	for i := range min(n, namespaces) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaceOf(i)}}
		if err := e.client.Create(ctx, ns); err != nil {
			return fmt.Errorf("failed to create namespace %s: %w", ns.Name, err)
		}
	}
	next := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range next {
				if err := e.client.Create(ctx, serviceImport(i)); err != nil {
					errs <- fmt.Errorf("failed to create ServiceImport %s/%s: %w", namespaceOf(i), nameOf(i), err)
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

func serviceImport(i int) *mcsv1alpha1.ServiceImport {
	ns, name := namespaceOf(i), nameOf(i)
	ann := map[string]string{wellknown.HostnameAnnotation: name + "." + ns + "." + wellknown.DefaultSegmentDomain}
	if takeover(i) {
		ann[wellknown.TakeoverAnnotation] = "true"
	}
	return &mcsv1alpha1.ServiceImport{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, Annotations: ann,
			Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue, wellknown.GlobalServiceNameLabel: name},
		},
		Spec: mcsv1alpha1.ServiceImportSpec{
			Type: mcsv1alpha1.ClusterSetIP, IPs: []string{ipOf(i).String()},
			Ports: []mcsv1alpha1.ServicePort{
				{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80},
				{Name: "grpc", Protocol: corev1.ProtocolTCP, Port: 9090},
			},
		},
	}
}

// server is one DNS server under test.
type server struct {
	name    string
	addr    string // DNS, UDP
	metrics string // URL of its Prometheus metrics
	proc    *proc
}

// startMeshfed runs meshfed-dns on the API server's imports.
func (e *env) startMeshfed(ctx context.Context, bin string) (*server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	dnsPort, adminPort := ports[0], ports[1]
	addr := "127.0.0.1:" + strconv.Itoa(dnsPort)
	p, err := startProc(e.dir, "meshfed-dns", bin,
		"--listen-address="+addr, "--admin-address=127.0.0.1:"+strconv.Itoa(adminPort), "--kubeconfig="+e.kubeconfig,
		"--zone=mesh.internal", "--shutdown-delay=0s", "--log-level=warn")
	if err != nil {
		return nil, err
	}
	e.meshfed = p
	s := &server{name: "meshfed-dns", addr: addr, metrics: "http://127.0.0.1:" + strconv.Itoa(adminPort) + "/metrics", proc: p}
	ready := "http://127.0.0.1:" + strconv.Itoa(adminPort) + "/readyz"
	return s, waitUntil(ctx, p, 2*time.Minute, func() bool { return httpOK(ready) })
}

// startCoreDNS runs CoreDNS with the file plugin on zone files of n services.
func (e *env) startCoreDNS(ctx context.Context, n int) (*server, error) {
	bin, err := framework.CoreDNSBinary()
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	dnsPort, metricsPort := ports[0], ports[1]
	mesh, set := zoneFiles(n)
	meshPath, setPath := filepath.Join(e.dir, "db.mesh.internal"), filepath.Join(e.dir, "db.clusterset.local")
	for path, text := range map[string]string{meshPath: mesh, setPath: set} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			return nil, err
		}
	}
	port := strconv.Itoa(dnsPort)
	corefile := fmt.Sprintf("mesh.internal:%[1]s {\n    bind 127.0.0.1\n    prometheus 127.0.0.1:%[2]d\n    file %[3]s\n}\nclusterset.local:%[1]s {\n    bind 127.0.0.1\n    file %[4]s\n}\n",
		port, metricsPort, meshPath, setPath)
	conf := filepath.Join(e.dir, "Corefile")
	if err := os.WriteFile(conf, []byte(corefile), 0o600); err != nil {
		return nil, err
	}
	p, err := startProc(e.dir, "coredns", bin, "-conf", conf)
	if err != nil {
		return nil, err
	}
	e.coredns = p
	s := &server{name: "coredns", addr: "127.0.0.1:" + port, metrics: "http://127.0.0.1:" + strconv.Itoa(metricsPort) + "/metrics", proc: p}
	last := query{name: nameOf(n-1) + "." + namespaceOf(n-1) + ".mesh.internal.", qtype: 1}
	return s, waitUntil(ctx, p, 2*time.Minute, func() bool { return answers(s.addr, last) })
}

// freePorts returns n loopback ports free for TCP and UDP a moment ago.
func freePorts(n int) ([]int, error) {
	var out []int
	for len(out) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if pc, err := net.ListenPacket("udp", l.Addr().String()); err == nil {
			_ = pc.Close()
			out = append(out, port)
		}
	}
	return out, nil
}

func httpOK(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitUntil polls cond until it holds, p exits, ctx ends or d passes.
func waitUntil(ctx context.Context, p *proc, d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if err := p.exited(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %s", p.name, d, p.logTail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// metric reads one unlabeled sample from a Prometheus text exposition.
func metric(url, name string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("no metric %s at %s", name, url)
}

// proc is a server process with its output in a log file.
type proc struct {
	name, logPath string
	cmd           *exec.Cmd
	done          chan struct{}
	err           error
}

func startProc(dir, name, bin string, args ...string) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("failed to start %s: %w", name, err)
	}
	p := &proc{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *proc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%w): %s", p.name, errors.Join(p.err, errors.New("exit")), p.logTail())
	default:
		return nil
	}
}

// stop sends SIGTERM, and SIGKILL after 5 s, to this process only.
func (p *proc) stop() {
	if p.exited() != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	return string(b[max(0, len(b)-2000):])
}

// buildMeshfed builds cmd/meshfed-dns into dir (go build resolves the module from the working
// directory, which must be inside it).
func buildMeshfed(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "meshfed-dns")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/meshfed/meshfed/cmd/meshfed-dns")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("failed to build meshfed-dns (run inside the module, or pass --dns-binary): %w: %s", err, b)
	}
	return out, nil
}
