package system

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/waypoint"
	"github.com/meshfed/meshfed/e2e/netlab"
	"github.com/meshfed/meshfed/hbone/pki"
)

// WaypointAdminPort serves the waypoint's /healthz, /readyz, /metrics and /debug/endpoints.
const WaypointAdminPort = 15021

// Waypoint is one namespace's waypoint in one member: a pod on the member's network and on
// transit, running meshfed-waypoint.
type Waypoint struct {
	Pod    *netlab.Pod
	Member *Member
	NS     string
	Proc   *Process
	// Addr is the waypoint pod's address on its member's network.
	Addr netip.Addr
	// HBONE is host:port of its HBONE server on transit, as other networks reach it.
	HBONE string

	args []string
	log  string
}

// WaypointOptions tune DeployWaypoint.
type WaypointOptions struct {
	// Transport of outbound tunnels: "h2" (default) or "h3".
	Transport string
	// Zone of the waypoint's Node; default the member's first zone.
	Zone string
}

// DeployWaypoint runs the waypoint of ns in m: a workload certificate for
// spiffe://cluster.local/ns/<ns>/sa/meshfed-waypoint from the harness CA, the waypoint Service
// in the member (annotated with its transit HBONE address, which the hub publishes), and the
// meshfed-waypoint process in its pod. It returns once /readyz answers 200.
func (f *Federation) DeployWaypoint(m *Member, ns string, o WaypointOptions) *Waypoint {
	f.t.Helper()
	w := f.deploy(m, waypoint.Spec{Namespace: ns, Cluster: m.Name}, o)
	f.wpMu.Lock()
	f.waypoints[m.Name+"/"+ns] = w
	f.wpMu.Unlock()
	return w
}

// DeployGateway runs a shared gateway in namespace gw of m that serves the namespaces serves:
// a workload certificate for spiffe://cluster.local/ns/<gw>/sa/meshfed-gateway, the gateway
// Service in gw (annotated with its transit HBONE address and the namespaces it serves, as
// meshfedctl waypoint apply --gateway-namespaces writes it), and meshfed-waypoint in gateway
// mode in its pod, reading the store as the gateway's etcd user. It returns once /readyz
// answers 200. The Waypoint's NS is the gateway's namespace.
func (f *Federation) DeployGateway(m *Member, gw string, serves []string, o WaypointOptions) *Waypoint {
	f.t.Helper()
	return f.deploy(m, waypoint.Spec{Namespace: gw, Cluster: m.Name, Serves: serves}, o)
}

// deploy runs the waypoint or shared gateway s describes in m.
func (f *Federation) deploy(m *Member, s waypoint.Spec, o WaypointOptions) *Waypoint {
	f.t.Helper()
	if o.Transport == "" {
		o.Transport = "h2"
	}
	if o.Zone == "" {
		o.Zone = m.Zones[0]
	}
	ns, account, prefix := s.Namespace, wellknown.WaypointName, "wp-"
	if s.Shared() {
		account, prefix = wellknown.GatewayName, "gw-"
	}
	pod, err := f.Lab.AddPod(prefix+m.Name+"-"+ns, m.Net, f.Lab.Transit)
	if err != nil {
		f.t.Fatal(err)
	}
	w := &Waypoint{Pod: pod, Member: m, NS: ns, Addr: pod.Addr(m.Net)}
	w.HBONE = net.JoinHostPort(pod.Addr(f.Lab.Transit).String(), strconv.Itoa(wellknown.HBONEPort))
	certs := filepath.Join(f.dir, "certs-"+prefix+m.Name+"-"+ns)
	f.Ctl("ca", "issue", "--ca-dir", f.CADir, "--out", certs, "--cluster", m.Name,
		"--spiffe-id", fmt.Sprintf("spiffe://%s/ns/%s/sa/%s", TrustDomain, ns, account))
	f.createWaypointService(m, s, w.HBONE)
	w.args = []string{
		"--namespace", ns, "--cluster", m.Name, "--network", m.Network,
		"--region", m.Region, "--zone", o.Zone, "--node", m.NodeName(o.Zone),
		"--etcd-endpoints", f.StoreURL,
		"--listen-host", w.Addr.String(),
		"--admin-address", net.JoinHostPort(w.Addr.String(), strconv.Itoa(WaypointAdminPort)),
		"--cert-file", filepath.Join(certs, "tls.crt"), "--key-file", filepath.Join(certs, "tls.key"),
		"--ca-file", filepath.Join(certs, "ca.crt"), "--trust-domain", TrustDomain,
		"--hbone-address", w.HBONE,
		"--hbone-transport", o.Transport,
	}
	if s.Shared() {
		w.args = append(w.args, "--gateway-namespaces", strings.Join(s.Serves, ","))
	}
	w.args = append(w.args, f.waypointStoreArgs(s, prefix+m.Name+"-"+ns)...)
	w.log = filepath.Join(f.dir, "waypoint-"+prefix+m.Name+"-"+ns+".log")
	w.Start(f)
	return w
}

// waypointStoreArgs are the store credentials of the waypoint or gateway s: with the embedded
// store, a client certificate issued from the hub's CA Secret as meshfedctl waypoint apply
// issues it, written to files in a directory named after id; none for the external etcd.
func (f *Federation) waypointStoreArgs(s waypoint.Spec, id string) []string {
	f.t.Helper()
	if f.hubs.external() {
		return nil
	}
	now := time.Now()
	ca, err := waypoint.ReadStoreCA(f.t.Context(), f.Hub.Client, waypoint.DefaultStoreCA, now)
	if err != nil {
		f.t.Fatal(err)
	}
	bundle, err := waypoint.StoreBundle(ca, s, now)
	if err != nil {
		f.t.Fatal(err)
	}
	dir := filepath.Join(f.dir, "store-certs-"+id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		f.t.Fatal(err)
	}
	var args []string
	for _, file := range []struct{ flag, key string }{
		{"--etcd-ca-file", pki.CAKey}, {"--etcd-cert-file", pki.CertKey}, {"--etcd-key-file", pki.KeyKey},
	} {
		path := filepath.Join(dir, file.key)
		if err := os.WriteFile(path, bundle[file.key], 0o600); err != nil {
			f.t.Fatal(err)
		}
		args = append(args, file.flag, path)
	}
	return args
}

// DeployWaypointOnce returns the waypoint of ns in m, deploying it with defaults if there is
// none yet.
func (f *Federation) DeployWaypointOnce(m *Member, ns string) *Waypoint {
	f.t.Helper()
	if w := f.waypoint(m, ns); w != nil {
		return w
	}
	return f.DeployWaypoint(m, ns, WaypointOptions{})
}

// Start runs the waypoint process (again) and waits for /readyz.
func (w *Waypoint) Start(f *Federation) {
	f.t.Helper()
	w.Proc = StartProcess(f.t, "waypoint "+w.Member.Name+"/"+w.NS, w.log, w.Pod.Command(bins.Waypoint, w.args...))
	f.Eventually("waypoint "+w.Member.Name+"/"+w.NS+" ready", 30*time.Second, func() (bool, string) {
		if w.Proc.Exited() {
			f.t.Fatalf("waypoint %s/%s exited", w.Member.Name, w.NS)
		}
		code, err := w.admin("/readyz", nil)
		return code == http.StatusOK, fmt.Sprint(code, err)
	})
}

// Debug reads /debug/endpoints into v.
func (w *Waypoint) Debug(v any) error {
	_, err := w.admin("/debug/endpoints", v)
	return err
}

// Metrics returns the lines of the waypoint's /metrics that start with prefix.
func (w *Waypoint) Metrics(prefix string) ([]string, error) {
	var body []byte
	if _, err := w.admin("/metrics", &body); err != nil {
		return nil, err
	}
	var out []string
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, prefix) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out, nil
}

// admin GETs an admin path from inside the waypoint's pod: into v as JSON, or as it is when v
// is a *[]byte.
func (w *Waypoint) admin(path string, v any) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := &http.Client{Transport: &http.Transport{DialContext: w.Pod.Dial, DisableKeepAlives: true}}
	u := "http://" + net.JoinHostPort(w.Addr.String(), strconv.Itoa(WaypointAdminPort)) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	switch v := v.(type) {
	case nil:
	case *[]byte:
		*v, err = io.ReadAll(resp.Body)
		return resp.StatusCode, err
	default:
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode, nil
}

// createWaypointService is the waypoint (or gateway) Service the hub reads the HBONE address
// and, for a gateway, the namespaces served from.
func (f *Federation) createWaypointService(m *Member, s waypoint.Spec, hbone string) {
	f.t.Helper()
	ctx := f.t.Context()
	ns := s.Namespace
	if err := m.Client().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		f.t.Fatal(err)
	}
	name, annotations := wellknown.WaypointName, map[string]string{wellknown.HBONEAddressKey: hbone}
	if s.Shared() {
		name, annotations[wellknown.GatewayNamespacesKey] = wellknown.GatewayName, strings.Join(s.Serves, ",")
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns,
			Labels:      map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue},
			Annotations: annotations,
		},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "hbone", Port: wellknown.HBONEPort, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(wellknown.HBONEPort)},
			{Name: "hbone-h3", Port: wellknown.HBONEPort, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(wellknown.HBONEPort)},
		}},
	}
	if err := m.Client().Create(ctx, svc); err != nil {
		f.t.Fatal(err)
	}
}
