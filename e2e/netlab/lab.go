package netlab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Lab is one fabric with its networks, pods and processes.
type Lab struct {
	// Octet is X of the lab's 10.X.0.0/16.
	Octet int
	// HostAddr is the host's address on the transit network.
	HostAddr netip.Addr
	// Transit is the network of the host and the waypoints' HBONE ports.
	Transit *Network

	prefix string // namespace and interface name prefix, "mf<X>"
	fabric string // the fabric namespace

	mu     sync.Mutex
	nets   []*Network
	pods   []*Pod
	procs  []proc
	closed bool
}

// Network is a bridge in the fabric with its /24.
type Network struct {
	Name   string
	Subnet netip.Prefix
	bridge string
	lab    *Lab
	next   int // next host number to hand out
}

// New builds an empty lab (the fabric, the transit bridge, the host's veth) and registers its
// removal with t.Cleanup.
func New(t testing.TB) *Lab {
	t.Helper()
	if err := checkPrivileges(); err != nil {
		t.Fatalf("netlab: %v", err)
	}
	l, err := create()
	if err != nil {
		t.Fatalf("netlab: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("netlab: %v", err)
		}
	})
	return l
}

func checkPrivileges() error {
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("the ip command (iproute2) is missing: apt-get install iproute2")
	}
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root (CAP_NET_ADMIN and CAP_SYS_ADMIN); run the e2e tests as root")
	}
	return nil
}

// create allocates a range under the host-wide lock and builds the fabric.
func create() (*Lab, error) {
	unlock, err := lockHost()
	if err != nil {
		return nil, err
	}
	defer unlock()
	sweepStale()
	octet, err := freeOctet()
	if err != nil {
		return nil, err
	}
	l := &Lab{Octet: octet, prefix: fmt.Sprintf("mf%d", octet)}
	l.fabric = l.prefix + "-fabric"
	l.HostAddr = netip.AddrFrom4([4]byte{10, byte(octet), 0, 1})
	l.Transit = &Network{Name: "transit", Subnet: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(octet), 0, 0}), 24), bridge: "br-transit", lab: l, next: 2}
	if err := writeOwner(octet); err != nil {
		return nil, err
	}
	hostIf := l.prefix + "-host"
	steps := [][]string{
		{"netns", "add", l.fabric},
		{"-n", l.fabric, "link", "set", "lo", "up"},
		{"-n", l.fabric, "link", "add", l.Transit.bridge, "type", "bridge"},
		{"-n", l.fabric, "link", "set", l.Transit.bridge, "up"},
		{"link", "add", hostIf, "type", "veth", "peer", "name", "host", "netns", l.fabric},
		{"-n", l.fabric, "link", "set", "host", "master", l.Transit.bridge, "up"},
		{"addr", "add", l.HostAddr.String() + "/24", "dev", hostIf},
		{"link", "set", hostIf, "up"},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			_ = l.Close()
			return nil, err
		}
	}
	return l, nil
}

// AddNetwork adds a bridge with the next 10.X.N.0/24.
func (l *Lab) AddNetwork(name string) (*Network, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.nets) + 1
	if n > 250 {
		return nil, errors.New("too many networks")
	}
	nw := &Network{
		Name: name, Subnet: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(l.Octet), byte(n), 0}), 24),
		bridge: fmt.Sprintf("br-%d", n), lab: l, next: 2,
	}
	if err := ip("-n", l.fabric, "link", "add", nw.bridge, "type", "bridge"); err != nil {
		return nil, err
	}
	if err := ip("-n", l.fabric, "link", "set", nw.bridge, "up"); err != nil {
		return nil, err
	}
	l.nets = append(l.nets, nw)
	return nw, nil
}

// AddPod creates a namespace with one interface per network, eth0 on the first; each gets the
// network's next address. A pod has only its networks' connected routes.
func (l *Lab) AddPod(name string, networks ...*Network) (*Pod, error) {
	if len(networks) == 0 {
		return nil, errors.New("a pod needs a network")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p := &Pod{Name: name, NS: l.prefix + "-" + name, lab: l, addrs: map[*Network]netip.Addr{}, links: map[*Network]string{}}
	if err := ip("netns", "add", p.NS); err != nil {
		return nil, err
	}
	l.pods = append(l.pods, p)
	if err := ip("-n", p.NS, "link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	for k, nw := range networks {
		if nw.next > 254 {
			return nil, fmt.Errorf("network %s is full", nw.Name)
		}
		addr := nw.Subnet.Addr().As4()
		addr[3] = byte(nw.next)
		nw.next++
		a := netip.AddrFrom4(addr)
		inner, outer := fmt.Sprintf("eth%d", k), fmt.Sprintf("p%d-%d", len(l.pods), k)
		for _, s := range [][]string{
			{"-n", l.fabric, "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", p.NS},
			{"-n", l.fabric, "link", "set", outer, "master", nw.bridge, "up"},
			{"-n", p.NS, "addr", "add", a.String() + "/24", "dev", inner},
			{"-n", p.NS, "link", "set", inner, "up"},
		} {
			if err := ip(s...); err != nil {
				return nil, err
			}
		}
		p.addrs[nw], p.links[nw] = a, inner
	}
	return p, nil
}

// proc is a process the lab started, and the channel closed when it has been reaped.
type proc struct {
	cmd  *exec.Cmd
	done <-chan struct{}
}

// track registers a started process for Close.
func (l *Lab) track(cmd *exec.Cmd, done <-chan struct{}) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("lab closed")
	}
	l.procs = append(l.procs, proc{cmd: cmd, done: done})
	return nil
}

// Close ends the lab's processes (SIGTERM, SIGKILL after 3s), then deletes every namespace.
// It is safe to call more than once.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	procs, pods := l.procs, l.pods
	l.mu.Unlock()
	for _, p := range procs {
		p.stop()
	}
	var errs []error
	for _, p := range pods {
		if err := ip("netns", "del", p.NS); err != nil {
			errs = append(errs, err)
		}
	}
	if err := ip("netns", "del", l.fabric); err != nil {
		errs = append(errs, err)
	}
	// Deleting the fabric destroys the host's veth too, asynchronously; wait for it, and delete
	// it only if it stays.
	hostIf := l.prefix + "-host"
	for deadline := time.Now().Add(2 * time.Second); linkExists(hostIf) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if err := ip("link", "del", hostIf); err != nil && linkExists(hostIf) {
		errs = append(errs, err)
	}
	if err := removeOwner(l.Octet); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// stop ends the process by its PID: SIGTERM, then SIGKILL after 3s, and waits until it has
// been reaped.
func (p proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(3 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// ip runs the ip command; its output is part of the error.
func ip(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func linkExists(name string) bool {
	_, err := os.Stat("/sys/class/net/" + name)
	return err == nil
}
