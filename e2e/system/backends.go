package system

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/netlab"
)

// The ports every exported test service has: HTTP (appProtocol http) and plain TCP.
const (
	HTTPPort        = 80
	TCPPort         = 9000
	BackendHTTPPort = 8080
	BackendTCPPort  = 9000
)

// Response headers of the HTTP echo.
const (
	HeaderCluster = "X-Backend-Cluster"
	HeaderZone    = "X-Backend-Zone"
	HeaderPod     = "X-Backend-Pod"
)

type sliceKey struct{ member, ns, svc string }

// Backend is one endpoint of an exported service: a pod running a process with an HTTP echo
// that names its cluster and zone, and a TCP echo.
type Backend struct {
	Pod     *netlab.Pod
	Member  *Member
	Zone    string
	NS      string
	Service string
	Addr    netip.Addr

	mu          sync.Mutex
	proc        *exec.Cmd
	done        <-chan struct{}
	notReady    bool
	terminating bool
}

// Export creates a Service (ports HTTPPort/http and TCPPort/tcp) with the scope annotation and
// any other annotations, in namespace ns of m (created if missing).
func (f *Federation) Export(m *Member, ns, svc, scope string, annotations map[string]string) {
	f.t.Helper()
	ctx := f.t.Context()
	if err := m.Client().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		f.t.Fatal(err)
	}
	a := map[string]string{wellknown.ServiceScopeKey: scope}
	for k, v := range annotations {
		a[k] = v
	}
	http := "http"
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: ns, Annotations: a},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "http", Port: HTTPPort, AppProtocol: &http, TargetPort: intstr.FromInt32(BackendHTTPPort)},
			{Name: "tcp", Port: TCPPort, TargetPort: intstr.FromInt32(BackendTCPPort)},
		}},
	}
	if err := m.Client().Create(ctx, s); err != nil {
		f.t.Fatal(err)
	}
}

// AddBackend starts a backend pod of ns/svc in zone z of m and lists it, ready, in the
// service's EndpointSlice.
func (f *Federation) AddBackend(m *Member, z, ns, svc string) *Backend {
	f.t.Helper()
	return f.addBackend(m, z, ns, svc, true)
}

// AddStartingBackend is AddBackend for a pod that has not passed its readiness probe yet: its
// process runs, and the EndpointSlice lists it neither ready nor serving until SetReady.
func (f *Federation) AddStartingBackend(m *Member, z, ns, svc string) *Backend {
	f.t.Helper()
	return f.addBackend(m, z, ns, svc, false)
}

func (f *Federation) addBackend(m *Member, z, ns, svc string, ready bool) *Backend {
	f.t.Helper()
	k := sliceKey{m.Name, ns, svc}
	list := f.backends[k]
	if list == nil {
		list = &[]*Backend{}
		f.backends[k] = list
	}
	n := 0
	for _, l := range f.backends {
		n += len(*l)
	}
	pod, err := f.Lab.AddPod(fmt.Sprintf("be%d", n), m.Net)
	if err != nil {
		f.t.Fatal(err)
	}
	b := &Backend{Pod: pod, Member: m, Zone: z, NS: ns, Service: svc, Addr: pod.Addr(m.Net), notReady: !ready}
	if err := b.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(b.Stop)
	*list = append(*list, b)
	f.writeSlice(k)
	return b
}

// Backends lists the backends of ns/svc in m.
func (f *Federation) Backends(m *Member, ns, svc string) []*Backend {
	if l := f.backends[sliceKey{m.Name, ns, svc}]; l != nil {
		return *l
	}
	return nil
}

// Start runs the backend's process: the test binary re-executed inside the pod's namespace as
// an HTTP and TCP echo. It returns once the process accepts connections.
func (b *Backend) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc != nil {
		return nil
	}
	cmd := b.Pod.Command(os.Args[0])
	cmd.Env = append(cmd.Env, envBackend+"="+b.Addr.String(), envCluster+"="+b.Member.Name, envZone+"="+b.Zone, envPod+"="+b.Pod.Name)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	done, err := b.Pod.Start(cmd)
	if err != nil {
		return err
	}
	target := net.JoinHostPort(b.Addr.String(), strconv.Itoa(BackendHTTPPort))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := b.Pod.Dial(ctx, "tcp", target)
		cancel()
		if err == nil {
			_ = c.Close()
			break
		}
		select {
		case <-done:
			return fmt.Errorf("backend %s exited at start", b.Pod.Name)
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("backend %s does not accept connections: %w", b.Pod.Name, err)
		}
	}
	b.proc, b.done = cmd, done
	return nil
}

// Stop kills the backend's process (SIGKILL: a crash; the kernel resets its connections and
// new ones are refused). The EndpointSlice still lists it ready (a crash the data plane has to
// notice by itself).
func (b *Backend) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil {
		return
	}
	_ = b.proc.Process.Kill()
	<-b.done
	b.proc, b.done = nil, nil
}

// serveTCPEcho echoes every connection; when the client half-closes, the echo finishes its
// copy and half-closes back.
func serveTCPEcho(l net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		wg.Go(func() {
			defer func() { _ = c.Close() }()
			_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
			_, _ = io.Copy(c, c)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
		})
	}
}

// SetReady changes the backend's readiness in the EndpointSlice.
func (f *Federation) SetReady(ready bool, bs ...*Backend) {
	f.t.Helper()
	keys := map[sliceKey]bool{}
	for _, b := range bs {
		b.mu.Lock()
		b.notReady = !ready
		b.mu.Unlock()
		keys[sliceKey{b.Member.Name, b.NS, b.Service}] = true
	}
	for k := range keys {
		f.writeSlice(k)
	}
}

// SetTerminating marks backends as a deleted pod in its grace period that still passes its
// readiness probe: ready false, serving true, terminating true (Kubernetes' terminating-serving
// endpoints). Their processes keep serving.
func (f *Federation) SetTerminating(bs ...*Backend) {
	f.t.Helper()
	keys := map[sliceKey]bool{}
	for _, b := range bs {
		b.mu.Lock()
		b.terminating = true
		b.mu.Unlock()
		keys[sliceKey{b.Member.Name, b.NS, b.Service}] = true
	}
	for k := range keys {
		f.writeSlice(k)
	}
}

// RemoveBackends ends pods as the kubelet does when their grace period is over: each process is
// killed, then the endpoint leaves the EndpointSlice (the pod object is gone).
func (f *Federation) RemoveBackends(bs ...*Backend) {
	f.t.Helper()
	keys := map[sliceKey]bool{}
	for _, b := range bs {
		b.Stop()
		k := sliceKey{b.Member.Name, b.NS, b.Service}
		*f.backends[k] = slices.DeleteFunc(*f.backends[k], func(x *Backend) bool { return x == b })
		keys[k] = true
	}
	for k := range keys {
		f.writeSlice(k)
	}
}

// writeSlice writes the EndpointSlice <svc>-e2e of a service from its backends.
func (f *Federation) writeSlice(k sliceKey) {
	f.t.Helper()
	m := f.Member(k.member)
	ctx := f.t.Context()
	hp, tp := int32(BackendHTTPPort), int32(BackendTCPPort)
	hn, tn := "http", "tcp"
	want := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: k.svc + "-e2e", Namespace: k.ns, Labels: map[string]string{discoveryv1.LabelServiceName: k.svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &hn, Port: &hp}, {Name: &tn, Port: &tp}},
	}
	for _, b := range *f.backends[k] {
		b.mu.Lock()
		ready, serving, terminating := !b.notReady && !b.terminating, !b.notReady, b.terminating
		b.mu.Unlock()
		node, zone := m.NodeName(b.Zone), b.Zone
		c := discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving}
		if terminating {
			c.Terminating = &terminating
		}
		want.Endpoints = append(want.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{b.Addr.String()}, NodeName: &node, Zone: &zone, Conditions: c,
		})
	}
	var cur discoveryv1.EndpointSlice
	err := m.Client().Get(ctx, client.ObjectKeyFromObject(want), &cur)
	switch {
	case apierrors.IsNotFound(err):
		err = m.Client().Create(ctx, want)
	case err == nil:
		cur.Endpoints, cur.Ports, cur.Labels = want.Endpoints, want.Ports, want.Labels
		err = m.Client().Update(ctx, &cur)
	}
	if err != nil {
		f.t.Fatal(errors.Join(fmt.Errorf("failed to write the EndpointSlice of %s/%s in %s", k.ns, k.svc, k.member), err))
	}
}
