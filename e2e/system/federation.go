package system

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/e2e/netlab"
	"github.com/meshfed/meshfed/internal/testport"
)

// TrustDomain is the SPIFFE trust domain of the harness's CA.
const TrustDomain = "cluster.local"

// MemberSpec describes one member cluster.
type MemberSpec struct {
	Name, Network, Region, Segment string
	// Zones get one Node each, named <member>-<zone>.
	Zones []string
}

// ServiceCIDR is the ClusterIP range of the members' API servers.
const ServiceCIDR = "10.0.0.0/16"

// DefaultTopology is the topology of DESIGN §7 and the demo: members 1 and 2 on network A,
// member 3 on network B, three regions, five zones.
func DefaultTopology() []MemberSpec {
	return []MemberSpec{
		{Name: "east-1", Network: "net-a", Region: "us-east", Zones: []string{"us-east-1a", "us-east-1b"}},
		{Name: "central-1", Network: "net-a", Region: "us-central", Zones: []string{"us-central-1a"}},
		{Name: "west-1", Network: "net-b", Region: "us-west", Zones: []string{"us-west-1a", "us-west-1b"}},
	}
}

// Federation is a running system: lab, API servers, the hub process, joined members.
type Federation struct {
	Lab      *netlab.Lab
	Networks map[string]*netlab.Network
	Hub      *framework.Cluster
	Members  []*Member
	// Kubeconfig holds one context per cluster, named after it ("hub", member names).
	Kubeconfig string
	// StoreURL is the store's client URL, on the lab's host address: https for the embedded
	// store (StoreClientConfig has the credentials), http for an external etcd.
	StoreURL string
	// CADir is the development CA (meshfedctl ca init).
	CADir string

	t         testing.TB
	dir       string
	hubs      hubs
	backends  map[sliceKey]*[]*Backend
	waypoints map[string]*Waypoint // by member/namespace; written under wpMu
	wpMu      sync.Mutex
}

// Member is one joined member cluster.
type Member struct {
	MemberSpec
	Cluster *framework.Cluster
	Net     *netlab.Network
	// DNS is the member's cluster DNS: CoreDNS and meshfed-dns (dns.go).
	DNS *MemberDNS
	f   *Federation
}

// Start builds the whole system for the given members and joins them with meshfedctl, with one
// hub embedding its store. It needs Main to have built the binaries.
func Start(t testing.TB, specs []MemberSpec) *Federation {
	t.Helper()
	return StartWith(t, specs, HubConfig{})
}

// StartWith is Start with the hub run as hc says.
func StartWith(t testing.TB, specs []MemberSpec, hc HubConfig) *Federation {
	t.Helper()
	if bins == nil {
		t.Fatal("system.Main must run from the package's TestMain (it builds the binaries)")
	}
	f := &Federation{
		t: t, dir: t.TempDir(), Lab: netlab.New(t), Networks: map[string]*netlab.Network{},
		backends: map[sliceKey]*[]*Backend{}, waypoints: map[string]*Waypoint{}, hubs: hubs{config: hc},
	}
	names := []string{"hub"}
	for _, s := range specs {
		names = append(names, s.Name)
		if f.Networks[s.Network] == nil {
			nw, err := f.Lab.AddNetwork(s.Network)
			if err != nil {
				t.Fatal(err)
			}
			f.Networks[s.Network] = nw
		}
	}
	// A /16 of ClusterIPs rather than envtest's /24: every namespace takes a derived Service per
	// global service and a waypoint Service, and the measurements run a hundred namespaces.
	// No packet is ever sent to these addresses in the lab.
	cs := framework.Start(t, len(names), framework.WithNames(names...), framework.WithScheme(meshfedv1.AddToScheme),
		framework.WithAPIServerFlag("service-cluster-ip-range", ServiceCIDR))
	f.Hub = cs[0]
	f.Kubeconfig = f.mergedKubeconfig(cs)
	f.CADir = filepath.Join(f.dir, "ca")
	f.Ctl("ca", "init", "--dir", f.CADir, "--trust-domain", TrustDomain)
	// The embedded store serves mutual TLS with etcd auth, as deploy/hub-embedded does; the
	// external etcd of the replicated hub is plain HTTP (deploy/hub leaves its TLS to its operator).
	scheme := "https"
	if f.hubs.external() {
		scheme = "http"
	}
	f.StoreURL = scheme + "://" + net.JoinHostPort(f.Lab.HostAddr.String(), strconv.Itoa(freePort(t, f.Lab.HostAddr.String())))
	f.startHubs()
	for i, s := range specs {
		m := &Member{MemberSpec: s, Cluster: cs[i+1], Net: f.Networks[s.Network], f: f}
		f.Members = append(f.Members, m)
		f.startDNS(m)
		args := []string{"join", s.Name, "--hub-context", "hub", "--member-context", s.Name, "--network", s.Network, "--region", s.Region}
		if s.Segment != "" {
			args = append(args, "--segment", s.Segment)
		}
		f.Ctl(args...)
		for _, z := range s.Zones {
			node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: m.NodeName(z), Labels: map[string]string{
				wellknown.RegionLabel: s.Region, wellknown.ZoneLabel: z,
			}}}
			if err := m.Cluster.Client.Create(t.Context(), node); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, m := range f.Members {
		f.waitDNS(m)
	}
	f.Eventually("every member ready", 60*time.Second, func() (bool, string) {
		var list meshfedv1.MemberClusterList
		if err := f.Hub.Client.List(t.Context(), &list); err != nil {
			return false, err.Error()
		}
		ready := 0
		for _, mc := range list.Items {
			for _, c := range mc.Status.Conditions {
				if c.Type == string(meshfedv1.MemberClusterConditionReady) && c.Status == metav1.ConditionTrue {
					ready++
				}
			}
		}
		return ready == len(specs), fmt.Sprintf("%d/%d ready", ready, len(specs))
	})
	return f
}

// Member returns the member named name.
func (f *Federation) Member(name string) *Member {
	for _, m := range f.Members {
		if m.Name == name {
			return m
		}
	}
	f.t.Fatalf("no member %s", name)
	return nil
}

// NodeName is the Node of zone z in m.
func (m *Member) NodeName(z string) string { return m.Name + "-" + z }

// Ctl runs meshfedctl with the harness kubeconfig and returns its output; a failure fails the
// test with the output.
func (f *Federation) Ctl(args ...string) string {
	f.t.Helper()
	out, err := f.TryCtl(args...)
	if err != nil {
		f.t.Fatalf("meshfedctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// StatusLine is the line of `meshfedctl status` output out whose NAME column is member ("" if
// none).
func StatusLine(out, member string) string {
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 && f[0] == member {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// TryCtl is Ctl returning the error.
func (f *Federation) TryCtl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.Ctl, append(args, "--kubeconfig", f.Kubeconfig)...)
	if args[0] == "ca" {
		cmd = exec.CommandContext(ctx, bins.Ctl, args...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Eventually polls cond every 100ms until it holds or limit passes.
func (f *Federation) Eventually(what string, limit time.Duration, cond func() (bool, string)) {
	f.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out after %v waiting for %s; last state: %s", limit, what, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Context is the test's context.
func (f *Federation) Context() context.Context { return f.t.Context() }

// Client is the member's API client.
func (m *Member) Client() client.Client { return m.Cluster.Client }

func (f *Federation) mergedKubeconfig(cs []*framework.Cluster) string {
	f.t.Helper()
	merged := clientcmdapi.NewConfig()
	for _, c := range cs {
		data, err := c.Kubeconfig()
		if err != nil {
			f.t.Fatal(err)
		}
		cfg, err := clientcmd.Load(data)
		if err != nil {
			f.t.Fatal(err)
		}
		for k, v := range cfg.Clusters {
			merged.Clusters[k] = v
		}
		for k, v := range cfg.AuthInfos {
			merged.AuthInfos[k] = v
		}
		for k, v := range cfg.Contexts {
			merged.Contexts[k] = v
		}
	}
	path := filepath.Join(f.dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*merged, path); err != nil {
		f.t.Fatal(err)
	}
	return path
}

// freePort is a TCP port on host for a listener a process binds later, which no other socket
// takes meanwhile (internal/testport).
func freePort(t testing.TB, host string) int {
	t.Helper()
	return testport.TCP(t, host)
}
