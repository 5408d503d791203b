package app

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/federation/store"
)

// cutProxy forwards loopback TCP to one address until cut: then it closes every open
// connection and refuses new ones, until restored. It stands between the hub and a member's
// API server so that only the hub loses the member.
type cutProxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { _ = l.Close(); p.setCut(true) })
	go p.serve()
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go pipe(c, up)
		go pipe(up, c)
	}
}

func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
}

// setCut cuts (true) or restores (false) the path.
func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			_ = c.Close()
		}
		clear(p.conns)
	}
}

// TestDeletionWhileUnreachable: a Service deleted in a member while the hub cannot reach it is
// withdrawn once the hub reconnects (the relist brings the deletion), and nothing else the
// member exports is deleted and re-added on the way.
func TestDeletionWhileUnreachable(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	west := env.members["west-1"]
	export(t, env.members["east-1"].Client, "shop", "web", "global", "10.244.1.5")
	export(t, west.Client, "shop", "web", "global", "10.244.2.5")
	export(t, west.Client, "shop", "api", "global", "10.244.2.6")

	// Route the hub's connection to west-1 through a proxy the test can cut.
	u, err := url.Parse(west.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startCutProxy(t, u.Host)
	pointSecretAt(t, env, "west-1", "https://"+proxy.l.Addr().String())
	eventually(t, "west-1 federated through the proxy", func() (bool, string) {
		_, ok := env.service(t, "shop", "api")
		got := env.endpointClusters(t, "shop", "web")
		return ok && slices.Equal(got, []string{"east-1", "west-1"}) && proxy.active() > 0, fmt.Sprint(got, proxy.active())
	})
	rec := record(t, env, "shop")

	proxy.setCut(true)
	eventually(t, "west-1 marked stale", func() (bool, string) {
		r, state := env.endpointsRecord(t, "shop", "api", "west-1")
		return r != nil && r.Stale, state
	})
	api := &corev1.Service{}
	if err := west.Client.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: "api"}, api); err != nil {
		t.Fatal(err)
	}
	if err := west.Client.Delete(t.Context(), api); err != nil {
		t.Fatal(err)
	}
	proxy.setCut(false)

	eventually(t, "the deletion made while unreachable arrives", func() (bool, string) {
		_, ok := env.service(t, "shop", "api")
		r, state := env.endpointsRecord(t, "shop", "web", "west-1")
		return !ok && r != nil && !r.Stale, state
	})
	apiKey := store.EndpointsKey("shop", "mesh.internal", "api", "west-1").String()
	apiSvc := store.ServiceKey("shop", "mesh.internal", "api").String()
	webKey := store.EndpointsKey("shop", "mesh.internal", "web", "west-1").String()
	eventually(t, "the store watcher to see the withdrawal", func() (bool, string) {
		d := rec.deleted()
		return slices.Contains(d, apiSvc), fmt.Sprint(d)
	})
	// Endpoints go before their service: a watcher never holds endpoints of an unknown service.
	if d := rec.deleted(); !slices.Equal(d, []string{apiKey, apiSvc}) || slices.Contains(d, webKey) {
		t.Errorf("deleted %v: want %s, then %s; %s kept", d, apiKey, apiSvc, webKey)
	}
}

func (p *cutProxy) active() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// pointSecretAt rewrites a member's kubeconfig Secret on the hub to reach its API server at
// server (same credentials and CA).
func pointSecretAt(t *testing.T, env *hubEnv, member, server string) {
	t.Helper()
	var s corev1.Secret
	key := client.ObjectKey{Namespace: wellknown.SystemNamespace, Name: membership.SecretName(member)}
	if err := env.hub.Client.Get(t.Context(), key, &s); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(s.Data[membership.KubeconfigKey])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = server
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Data[membership.KubeconfigKey] = data
	if err := env.hub.Client.Update(t.Context(), &s); err != nil {
		t.Fatal(err)
	}
}
