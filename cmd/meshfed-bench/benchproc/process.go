package benchproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// modulePath is the module whose commands are built.
const modulePath = "github.com/meshfed/meshfed"

// stopTimeout is how long a process has to exit after SIGTERM before it is killed.
const stopTimeout = 5 * time.Second

// moduleRoot walks up from dir to the directory whose go.mod declares modulePath.
func moduleRoot(dir string) (string, error) {
	for range 64 { // bounded: no path is that deep
		if mod, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && declaresModule(string(mod), modulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("failed to find the go.mod of %s above the working directory; pass prebuilt binaries", modulePath)
}

func declaresModule(gomod, path string) bool {
	sc := bufio.NewScanner(strings.NewReader(gomod))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == path {
			return true
		}
	}
	return false
}

// Build runs go build of the module's package pkg into dir/name and returns the binary.
func Build(ctx context.Context, dir, name, pkg string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := moduleRoot(wd)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, name)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("failed to build %s: %w\n%s", name, err, out)
	}
	return bin, nil
}

// Proc is one running child process of the benchmark.
type Proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error // set before done closes
}

// Start runs bin with args, and env added to the benchmark's own environment, its output in
// dir/<name>.log.
func Start(name, bin, dir string, args, env []string) (*Proc, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childAttr()
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("failed to start process %s: %w", name, err)
	}
	p := &Proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID is the process's id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Exited returns an error with the end of the log if the process is no longer running.
func (p *Proc) Exited() error {
	select {
	case <-p.done:
		err := p.err
		if err == nil {
			err = errors.New("exit status 0")
		}
		return fmt.Errorf("process %s exited (%w): %s", p.name, err, p.logTail())
	default:
		return nil
	}
}

// Usage reads the CPU time and memory of the process and of its children (nginx's workers),
// summed.
func (p *Proc) Usage() (Usage, error) {
	if err := p.Exited(); err != nil {
		return Usage{}, err
	}
	return ReadTreeUsage(p.PID())
}

// Stop sends SIGTERM, and SIGKILL after stopTimeout, to this process only, and waits for it.
func (p *Proc) Stop() {
	if p.Exited() != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// logTail is the last lines of the process's output, for errors.
func (p *Proc) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(b)
}
