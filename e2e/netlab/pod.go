package netlab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// Pod is a network namespace attached to one or more networks.
type Pod struct {
	Name string
	// NS is the namespace's name (ip netns).
	NS string

	lab   *Lab
	addrs map[*Network]netip.Addr
	links map[*Network]string
}

// Addr is the pod's address on nw (invalid if the pod is not on it).
func (p *Pod) Addr(nw *Network) netip.Addr { return p.addrs[nw] }

// SetLink brings the pod's interface on nw up or down: a partition of that pod from nw.
func (p *Pod) SetLink(nw *Network, up bool) error {
	link, ok := p.links[nw]
	if !ok {
		return fmt.Errorf("pod %s is not on network %s", p.Name, nw.Name)
	}
	state := "down"
	if up {
		state = "up"
	}
	return ip("-n", p.NS, "link", "set", link, state)
}

// Listen opens a TCP listener inside the pod's namespace.
func (p *Pod) Listen(ctx context.Context, addr string) (net.Listener, error) {
	var l net.Listener
	err := p.Do(func() error {
		var lc net.ListenConfig
		var err error
		l, err = lc.Listen(ctx, "tcp", addr)
		return err
	})
	return l, err
}

// ListenPacket opens a UDP socket inside the pod's namespace.
func (p *Pod) ListenPacket(ctx context.Context, addr string) (net.PacketConn, error) {
	var c net.PacketConn
	err := p.Do(func() error {
		var lc net.ListenConfig
		var err error
		c, err = lc.ListenPacket(ctx, "udp", addr)
		return err
	})
	return c, err
}

// Dial connects from inside the pod's namespace; it has the signature of
// http.Transport.DialContext.
func (p *Pod) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := p.Do(func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Do runs fn on an OS thread switched into the pod's namespace. Sockets fn creates stay in
// that namespace. If the thread cannot switch back, it is never unlocked, so the Go runtime
// ends it instead of reusing it in the wrong namespace.
func (p *Pod) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("failed to open the current network namespace: %w", err)
			return
		}
		defer func() { _ = unix.Close(orig) }()
		target, err := unix.Open(filepath.Join("/run/netns", p.NS), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("failed to open namespace %s: %w", p.NS, err)
			return
		}
		defer func() { _ = unix.Close(target) }()
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("failed to enter namespace %s: %w", p.NS, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// Command is an exec.Cmd that runs name inside the pod's namespace (`ip netns exec`, which
// execs name in place, so the command's PID is the program's).
func (p *Pod) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", p.NS, name}, args...)...)
	cmd.Env = os.Environ()
	return cmd
}

// Start starts cmd (from Command) and registers it with the lab, which ends it on Close. The
// returned channel is closed when it has exited.
func (p *Pod) Start(cmd *exec.Cmd) (<-chan struct{}, error) {
	// If the test process dies without Close (a panic, a timeout), the kernel ends the process
	// too (the signal survives ip netns exec's execve).
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("failed to start %s in %s: %w", cmd.Args, p.Name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	if err := p.lab.track(cmd, done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		return nil, err
	}
	return done, nil
}
