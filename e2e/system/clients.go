package system

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/netlab"
)

// Client is a pod on a member's network that sends traffic.
type Client struct {
	Pod    *netlab.Pod
	Member *Member
	HTTP   *http.Client
	f      *Federation
}

// AddClient adds a client pod on m's network. Its HTTP client dials IP addresses as they are
// and resolves names through the member's CoreDNS (names.go).
func (f *Federation) AddClient(m *Member, name string) *Client {
	f.t.Helper()
	pod, err := f.Lab.AddPod(name, m.Net)
	if err != nil {
		f.t.Fatal(err)
	}
	c := &Client{Pod: pod, Member: m, f: f}
	tr := &http.Transport{DialContext: c.dial, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	f.t.Cleanup(tr.CloseIdleConnections)
	c.HTTP = &http.Client{Transport: tr, Timeout: 5 * time.Second}
	return c
}

// Target resolves port of the global service ns/svc, as the client's member imports it, to
// the address a client connects to: the derived Service's target port on the member's waypoint
// pod (what kube-proxy does for the derived Service's ClusterIP). It waits for the write-back.
func (c *Client) Target(w *Waypoint, ns, svc string, port int32) string {
	c.f.t.Helper()
	var target int32
	c.f.Eventually(fmt.Sprintf("derived Service of %s/%s in %s", ns, svc, c.Member.Name), 60*time.Second, func() (bool, string) {
		var d corev1.Service
		err := c.Member.Client().Get(c.f.t.Context(), client.ObjectKey{Namespace: ns, Name: wellknown.DerivedServiceName(svc)}, &d)
		if err != nil {
			return false, err.Error()
		}
		for _, p := range d.Spec.Ports {
			if p.Port == port && p.TargetPort.IntVal > 0 {
				target = p.TargetPort.IntVal
				return true, ""
			}
		}
		return false, fmt.Sprintf("ports %+v", d.Spec.Ports)
	})
	return net.JoinHostPort(w.Addr.String(), strconv.Itoa(int(target)))
}

// Reply is the outcome of one request.
type Reply struct {
	// At is when the request was sent, Done when its answer (or error) came back.
	At, Done      time.Time
	Cluster, Zone string
	// Pod is the name of the backend pod that answered.
	Pod  string
	Code int
	Err  error
}

// OK reports a 200.
func (r Reply) OK() bool { return r.Err == nil && r.Code == http.StatusOK }

// Get sends one GET to http://addr/; addr is IP:port or name:port.
func (c *Client) Get(ctx context.Context, addr string) (r Reply) {
	r.At = time.Now()
	defer func() { r.Done = time.Now() }()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		r.Err = err
		return r
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		r.Err = err
		return r
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	r.Code, r.Cluster, r.Zone, r.Pod = resp.StatusCode, resp.Header.Get(HeaderCluster), resp.Header.Get(HeaderZone), resp.Header.Get(HeaderPod)
	return r
}

// Load sends GETs to addr at rate per second for d — at most rate×d requests, each bounded by
// the client's timeout — calls onReply (if set) as replies arrive, and returns them all in the
// order sent. It stops early when ctx ends.
func (c *Client) Load(ctx context.Context, addr string, rate int, d time.Duration, onReply func(Reply)) []Reply {
	n := int(float64(rate) * d.Seconds())
	replies := make([]Reply, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sent := 0
	for ; sent < n; sent++ {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		if ctx.Err() != nil {
			break
		}
		i := sent
		wg.Go(func() {
			r := c.Get(ctx, addr)
			replies[i] = r
			if onReply != nil {
				mu.Lock()
				onReply(r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return replies[:sent]
}

// Steady sends GETs to addr at rate per second until stop is called, which waits for the
// requests in flight (each bounded by the client's timeout) and returns every reply in the
// order sent. Unlike Load, its length need not be known in advance, and stopping it fails no
// request.
func (c *Client) Steady(ctx context.Context, addr string, rate int) (stop func() []Reply) {
	var (
		mu      sync.Mutex
		replies []Reply
		wg      sync.WaitGroup
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-tick.C:
			}
			mu.Lock()
			i := len(replies)
			replies = append(replies, Reply{})
			mu.Unlock()
			wg.Go(func() {
				r := c.Get(ctx, addr)
				mu.Lock()
				replies[i] = r
				mu.Unlock()
			})
		}
	}()
	return func() []Reply {
		close(done)
		<-finished
		wg.Wait()
		return replies
	}
}
