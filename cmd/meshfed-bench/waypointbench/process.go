package waypointbench

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

// modulePath is the module whose cmd/meshfed-waypoint is built.
const modulePath = "github.com/meshfed/meshfed"

// stopTimeout is how long a waypoint has to exit after SIGTERM before it is killed.
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
	return "", fmt.Errorf("failed to find the go.mod of %s above the working directory; pass --waypoint-binary", modulePath)
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

// buildWaypoint runs go build of cmd/meshfed-waypoint into dir and returns the binary.
func buildWaypoint(ctx context.Context, dir string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := moduleRoot(wd)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "meshfed-waypoint")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/meshfed-waypoint")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("failed to build meshfed-waypoint: %w\n%s", err, out)
	}
	return bin, nil
}

// proc is one running meshfed-waypoint process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error // set before done closes
}

// startProc runs bin with args, its output in a log file under dir.
func startProc(name, bin, dir string, args []string) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("failed to start waypoint %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited returns an error with the end of the log if the process is no longer running.
func (p *proc) exited() error {
	select {
	case <-p.done:
		err := p.err
		if err == nil {
			err = errors.New("exit status 0")
		}
		return fmt.Errorf("waypoint %s exited (%w): %s", p.name, err, p.logTail())
	default:
		return nil
	}
}

// usage reads the process's CPU time and memory.
func (p *proc) usage() (usage, error) {
	if err := p.exited(); err != nil {
		return usage{}, err
	}
	return readUsage(p.pid())
}

// stop sends SIGTERM, and SIGKILL after stopTimeout, to this process only, and waits for it.
func (p *proc) stop() {
	if p.exited() != nil {
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
func (p *proc) logTail() string {
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

// errNotReady is returned when a path does not answer in time.
var errNotReady = errors.New("path not ready")
