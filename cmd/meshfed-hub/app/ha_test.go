package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/federation/store/embedded"
)

// buildHub builds the meshfed-hub binary from this tree.
func buildHub(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := framework.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "meshfed-hub")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/meshfed-hub")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build meshfed-hub: %v\n%s", err, out)
	}
	return bin
}

// hubReplica is one meshfed-hub process.
type hubReplica struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startReplica runs the hub binary against the hub cluster and an external store, with a short
// leader-election lease so that a killed leader is replaced within seconds.
func startReplica(t *testing.T, bin, name, kubeconfig string, etcd []string) *hubReplica {
	t.Helper()
	r := &hubReplica{name: name, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	logf, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(bin,
		"--kubeconfig", kubeconfig, "--etcd-endpoints", strings.Join(etcd, ","), "--identity", name,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0",
		"--probe-interval", "300ms", "--resync", "2s",
		"--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s", "--leader-elect-retry-period", "500ms")
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = r.cmd.Wait()
		_ = logf.Close()
		close(r.done)
	}()
	t.Cleanup(func() {
		r.kill()
		if t.Failed() {
			if b, err := os.ReadFile(r.log); err == nil {
				t.Logf("%s log (last 4 KiB):\n%s", name, tail(b, 4096))
			}
		}
	})
	return r
}

// kill ends the process with SIGKILL — no Lease release, no store resign — and waits for it.
func (r *hubReplica) kill() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// leaseHolder is the replica identity holding the hub's Lease, "" if none.
func leaseHolder(ctx context.Context, c client.Client) string {
	var l coordinationv1.Lease
	if err := c.Get(ctx, client.ObjectKey{Namespace: wellknown.SystemNamespace, Name: wellknown.HubLeaseName}, &l); err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	id, _, _ := strings.Cut(*l.Spec.HolderIdentity, "_")
	return id
}

// churnState is what the churn left in the members: per service, per cluster, the addresses
// (absent: the service does not exist there).
type churnState map[string]map[string][]string

// setAddresses creates or updates an exported Service and its one EndpointSlice.
func setAddresses(ctx context.Context, c client.Client, ns, name string, ips []string) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{wellknown.ServiceScopeKey: "global"}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}
	if err := c.Create(ctx, svc); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	port, pname := int32(8080), "http"
	eps := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name + "-1", Namespace: ns}}
	err := c.Get(ctx, client.ObjectKeyFromObject(eps), eps)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	create := apierrors.IsNotFound(err)
	eps.Labels = map[string]string{discoveryv1.LabelServiceName: name}
	eps.AddressType = discoveryv1.AddressTypeIPv4
	eps.Ports = []discoveryv1.EndpointPort{{Name: &pname, Port: &port}}
	eps.Endpoints = nil
	for _, ip := range ips {
		eps.Endpoints = append(eps.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}})
	}
	if create {
		return c.Create(ctx, eps)
	}
	return c.Update(ctx, eps)
}

// removeService deletes an exported Service and its EndpointSlice.
func removeService(ctx context.Context, c client.Client, ns, name string) error {
	var errs []error
	for _, obj := range []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name + "-1", Namespace: ns}},
	} {
		if err := c.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// storeState reads what the store holds for namespace ns in the churnState shape, and the
// keys marked stale.
func storeState(ctx context.Context, st *store.Client, ns string) (churnState, []string, error) {
	l, err := st.List(ctx, store.NamespacePrefix(ns))
	if err != nil {
		return nil, nil, err
	}
	got := churnState{}
	var stale []string
	for _, r := range l.Endpoints() {
		var ips []string
		for _, e := range r.Endpoints {
			ips = append(ips, e.Address)
		}
		slices.Sort(ips)
		if got[r.Name] == nil {
			got[r.Name] = map[string][]string{}
		}
		got[r.Name][r.Cluster] = ips
		if r.Stale {
			stale = append(stale, r.Key().String())
		}
	}
	for _, s := range l.Services() {
		if got[s.Name] == nil {
			got[s.Name] = map[string][]string{} // a service record without endpoint records
		}
	}
	return got, stale, nil
}

func (s churnState) equal(o churnState) bool {
	return maps.EqualFunc(s, o, func(a, b map[string][]string) bool {
		return maps.EqualFunc(a, b, slices.Equal[[]string])
	})
}

// TestLeaderKilledMidChurn runs two hub replicas against one external store, churns exports in
// three members (addresses change, services come and go), and SIGKILLs the leader in the middle.
// The other replica takes over the Lease and the store fence; once the churn stops, the store
// holds exactly the members' final state: every service that exists with its final addresses,
// nothing of a deleted service, nothing stale.
func TestLeaderKilledMidChurn(t *testing.T) {
	names := []string{"hub", "east-1", "west-1", "north-1"}
	cs := framework.Start(t, len(names), framework.WithNames(names...), framework.WithScheme(meshfedv1.AddToScheme))
	bin := buildHub(t)
	hub, members := cs[0], cs[1:]
	for i, m := range members {
		join(t, hub, m, fmt.Sprintf("net-%d", i))
	}
	kc, err := hub.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	kcPath := filepath.Join(t.TempDir(), "hub.kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	etcd, err := embedded.Start(ctx, embedded.Config{
		DataDir: t.TempDir(), ClientURL: "http://" + freeAddr(t), PeerURL: "http://" + freeAddr(t),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(etcd.Close)
	st, err := store.Connect(ctx, store.ClientConfig{Endpoints: etcd.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	const ns = "ha"
	services := []string{"a", "b", "c", "d"}
	want := churnState{}
	for mi, m := range members {
		if err := m.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
		for si, s := range services {
			ips := []string{fmt.Sprintf("10.%d.%d.1", mi+1, si)}
			if err := setAddresses(ctx, m.Client, ns, s, ips); err != nil {
				t.Fatal(err)
			}
			if want[s] == nil {
				want[s] = map[string][]string{}
			}
			want[s][m.Name] = ips
		}
	}
	replicas := map[string]*hubReplica{
		"hub-a": startReplica(t, bin, "hub-a", kcPath, etcd.Endpoints()),
		"hub-b": startReplica(t, bin, "hub-b", kcPath, etcd.Endpoints()),
	}
	converged := func(what string) {
		t.Helper()
		eventually(t, what, func() (bool, string) {
			got, stale, err := storeState(ctx, st, ns)
			if err != nil {
				return false, err.Error()
			}
			return got.equal(want) && len(stale) == 0, fmt.Sprintf("store %v stale %v; want %v", got, stale, want)
		})
	}
	converged("the initial exports")
	leader := leaseHolder(ctx, hub.Client)
	if replicas[leader] == nil {
		t.Fatalf("lease holder %q is not one of the replicas", leader)
	}

	// Churn: one change every 25ms for 6s, round robin over members and services; every fifth
	// change deletes the service in that member, the next change there recreates it.
	var mu sync.Mutex
	churnErrs := 0
	stop := make(chan struct{})
	churned := make(chan struct{})
	go func() {
		defer close(churned)
		deadline := time.Now().Add(6 * time.Second)
		for i := 0; i < 240 && time.Now().Before(deadline); i++ {
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
			mi, si := i%len(members), (i/len(members))%len(services)
			m, s := members[mi], services[si]
			// A step that usually takes milliseconds can stall for seconds on a loaded API
			// server; one that timed out may still have been applied, and want would be wrong.
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			var err error
			var ips []string
			if i%5 == 4 {
				err = removeService(cctx, m.Client, ns, s)
			} else {
				for k := range 1 + i%3 {
					ips = append(ips, fmt.Sprintf("10.%d.%d.%d", mi+1, si, 10+(i+k)%200))
				}
				slices.Sort(ips)
				err = setAddresses(cctx, m.Client, ns, s, ips)
			}
			cancel()
			mu.Lock()
			switch {
			case err != nil:
				churnErrs++
				t.Logf("churn step %d on %s/%s: %v", i, m.Name, s, err)
			case ips == nil:
				delete(want[s], m.Name)
				if len(want[s]) == 0 {
					delete(want, s)
				}
			default:
				if want[s] == nil {
					want[s] = map[string][]string{}
				}
				want[s][m.Name] = ips
			}
			mu.Unlock()
		}
	}()
	time.Sleep(2 * time.Second)
	killedAt := time.Now()
	replicas[leader].kill()
	t.Logf("killed leader %s", leader)
	<-churned
	churnEnded := time.Since(killedAt)
	close(stop)
	mu.Lock()
	if churnErrs > 0 {
		t.Fatalf("%d churn steps failed", churnErrs)
	}
	mu.Unlock()

	var successor string
	eventually(t, "the other replica holding the Lease", func() (bool, string) {
		successor = leaseHolder(ctx, hub.Client)
		return successor != "" && successor != leader, successor
	})
	converged("the members' final state after the leader was killed")
	t.Logf("%s took over; the store converged %v after the kill (lease 4s; the churn ended %v after the kill)",
		successor, time.Since(killedAt).Round(time.Millisecond), churnEnded.Round(time.Millisecond))
}
