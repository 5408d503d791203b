package netlab

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// echo serves one line back on every connection accepted by l until l closes.
func echo(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer func() { _ = c.Close() }()
			_, _ = io.Copy(c, c)
		}()
	}
}

// reach dials addr from p and checks that a line comes back.
func reach(t *testing.T, p *Pod, addr string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	c, err := p.Dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf) != "ping\n" {
		return errors.New("garbled echo")
	}
	return nil
}

// TestLabIsolatesNetworks builds two networks with a pod and a waypoint each and checks the
// rules of DESIGN §7: a pod reaches its own network only; waypoints reach each other and the
// host over transit; a pod on one network cannot reach a pod on the other; a link set down
// partitions; closing the lab removes every namespace and the host's veth.
func TestLabIsolatesNetworks(t *testing.T) {
	if err := checkPrivileges(); err != nil {
		t.Fatalf("netlab: %v", err)
	}
	l, err := create()
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = l.Close()
		}
	})
	ctx := t.Context()
	a, err := l.AddNetwork("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.AddNetwork("b")
	if err != nil {
		t.Fatal(err)
	}
	pods := map[string]*Pod{}
	for _, spec := range []struct {
		name string
		nets []*Network
	}{
		{"a1", []*Network{a}}, {"a2", []*Network{a}}, {"b1", []*Network{b}},
		{"wa", []*Network{a, l.Transit}}, {"wb", []*Network{b, l.Transit}},
	} {
		p, err := l.AddPod(spec.name, spec.nets...)
		if err != nil {
			t.Fatal(err)
		}
		pods[spec.name] = p
	}
	listen := func(p *Pod, nw *Network) string {
		t.Helper()
		ln, err := p.Listen(ctx, net.JoinHostPort(p.Addr(nw).String(), "7000"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ln.Close() })
		go echo(ln)
		return ln.Addr().String()
	}
	a2 := listen(pods["a2"], a)
	b1 := listen(pods["b1"], b)
	wbTransit := listen(pods["wb"], l.Transit)

	host, err := net.Listen("tcp", net.JoinHostPort(l.HostAddr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close() })
	go echo(host)

	for _, c := range []struct {
		from, to string
		addr     string
		ok       bool
	}{
		{"a1", "a2 (same network)", a2, true},
		{"a1", "b1 (other network)", b1, false},
		{"wa", "b1 (other network, from a waypoint)", b1, false},
		{"wa", "wb over transit", wbTransit, true},
		{"a1", "wb's transit address (pods are not on transit)", wbTransit, false},
		{"wa", "the host over transit", host.Addr().String(), true},
	} {
		err := reach(t, pods[c.from], c.addr)
		if (err == nil) != c.ok {
			t.Errorf("%s → %s: err %v, want reachable=%v", c.from, c.to, err, c.ok)
		}
	}
	if err := pods["wb"].SetLink(l.Transit, false); err != nil {
		t.Fatal(err)
	}
	if err := reach(t, pods["wa"], wbTransit); err == nil {
		t.Error("wa reaches wb with wb's transit link down")
	}
	if err := pods["wb"].SetLink(l.Transit, true); err != nil {
		t.Fatal(err)
	}
	// The link comes back with its address; neighbour discovery may take a moment.
	deadline := time.Now().Add(5 * time.Second)
	for err := reach(t, pods["wa"], wbTransit); err != nil; err = reach(t, pods["wa"], wbTransit) {
		if time.Now().After(deadline) {
			t.Fatalf("wa does not reach wb after the link came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A process in a pod: `ip netns exec` runs it in place; Close ends it.
	sleeper := pods["a1"].Command("sleep", "600")
	done, err := pods["a1"].Start(sleeper)
	if err != nil {
		t.Fatal(err)
	}
	pid := sleeper.Process.Pid
	// ip netns exec enters the namespace, then execs sleep in place.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		comm, err := os.ReadFile("/proc/" + itoa(pid) + "/comm")
		if err == nil && strings.TrimSpace(string(comm)) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d never became sleep: %q %v", pid, comm, err)
		}
	}
	nsOfSleeper, err := os.Readlink("/proc/" + itoa(pid) + "/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	nsOfTest, _ := os.Readlink("/proc/self/ns/net")
	if nsOfSleeper == nsOfTest {
		t.Error("the process runs in the test's own network namespace")
	}

	closed = true
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("Close left the pod's process running")
	}
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("process %d still exists", pid)
	}
	out, err := runCmd("ip", "netns", "list")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, l.prefix+"-") {
		t.Errorf("namespaces left after Close:\n%s", out)
	}
	if linkExists(l.prefix + "-host") {
		t.Error("the host veth is left after Close")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}
