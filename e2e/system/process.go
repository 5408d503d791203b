package system

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Process is a program the harness started; the test's cleanup ends it by PID.
type Process struct {
	Name string
	Log  string
	cmd  *exec.Cmd
	done chan struct{}
	// err is what Wait returned; set before done closes.
	err error
}

// StartProcess starts cmd with its output in logPath. When the test fails, the log's tail is
// printed; the process is ended (SIGTERM, SIGKILL after 5s) at cleanup either way.
func StartProcess(t testing.TB, name, logPath string, cmd *exec.Cmd) *Process {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// If the test process dies without its cleanups (a panic, a timeout), the kernel ends the
	// process too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		t.Fatalf("failed to start %s: %v", name, err)
	}
	p := &Process{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				if len(b) > 6000 {
					b = b[len(b)-6000:]
				}
				t.Logf("--- %s log (tail) ---\n%s", name, b)
			}
		}
	})
	return p
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill ends the process with SIGKILL and waits for it.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Terminate sends SIGTERM and waits up to limit for the process to exit by itself; then it is
// killed. The error says when it had to be killed or exited with a failure status.
func (p *Process) Terminate(limit time.Duration) error {
	if p.Exited() {
		if p.err != nil {
			return fmt.Errorf("%s had already exited: %w", p.Name, p.err)
		}
		return fmt.Errorf("%s had already exited", p.Name)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(limit):
		p.Kill()
		return fmt.Errorf("%s did not exit within %v of SIGTERM", p.Name, limit)
	}
	if p.err != nil {
		return fmt.Errorf("%s exited after SIGTERM: %w", p.Name, p.err)
	}
	return nil
}

// Stop ends the process with SIGTERM, then SIGKILL after 5s, and waits for it.
func (p *Process) Stop() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.Kill()
	}
}
