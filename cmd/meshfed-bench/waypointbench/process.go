package waypointbench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	return "", fmt.Errorf("failed to find the go.mod of %s above the working directory; pass --waypoint-binary and --relay-binary", modulePath)
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

// binPaths are the programs the benchmark runs.
type binPaths struct{ waypoint, relay string }

// binaries takes the prebuilt programs of f and builds the others from the module into dir.
func binaries(ctx context.Context, f Flags, dir string, log *slog.Logger) (binPaths, error) {
	b := binPaths{waypoint: f.WaypointBinary, relay: f.RelayBinary}
	var err error
	if b.waypoint == "" {
		log.Info("building meshfed-waypoint")
		if b.waypoint, err = build(ctx, dir, "meshfed-waypoint", "./cmd/meshfed-waypoint"); err != nil {
			return b, err
		}
	}
	if b.relay == "" {
		if b.relay, err = build(ctx, dir, "tcprelay", "./cmd/meshfed-bench/tcprelay"); err != nil {
			return b, err
		}
	}
	return b, nil
}

// build runs go build of the module's package pkg into dir/name and returns the binary.
func build(ctx context.Context, dir, name, pkg string) (string, error) {
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
