package peersbench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// peerPrograms are the peers' executables and the Debian packages that install them.
var peerPrograms = []struct{ program, pkg string }{
	{"haproxy", "haproxy"},
	{"nginx", "nginx-light"},
}

// installTimeout bounds each apt-get command.
const installTimeout = 10 * time.Minute

// errPeersMissing is returned when a peer is not installed and the bench may not install it.
var errPeersMissing = errors.New("peer proxies not installed")

// lookPeer finds program in PATH or in /usr/sbin, where Debian puts both peers and where a
// non-root PATH often does not look.
func lookPeer(program string) (string, bool) {
	if p, err := exec.LookPath(program); err == nil {
		return p, true
	}
	p := filepath.Join("/usr/sbin", program)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return p, true
	}
	return "", false
}

// installPlan is the apt-get install command for the packages of the missing programs, or
// errPeersMissing with what to install when the bench may not (it is not root).
func installPlan(missing []string, root bool) ([]string, error) {
	if len(missing) == 0 {
		return nil, nil
	}
	var pkgs []string
	for _, m := range missing {
		for _, p := range peerPrograms {
			if p.program == m {
				pkgs = append(pkgs, p.pkg)
			}
		}
	}
	if !root {
		return nil, fmt.Errorf("%w: %s not found; install them with `sudo apt-get install -y %s` (Debian) and run again",
			errPeersMissing, strings.Join(missing, " and "), strings.Join(pkgs, " "))
	}
	return append([]string{"apt-get", "install", "-y", "--no-install-recommends"}, pkgs...), nil
}

// peerPaths returns the executables of the peers by program name, installing the missing
// ones with apt-get when the bench runs as root (saying so), and an error naming the
// packages otherwise.
func peerPaths(ctx context.Context, log *slog.Logger) (map[string]string, error) {
	paths, missing := lookPeers()
	cmd, err := installPlan(missing, os.Geteuid() == 0)
	if err != nil || cmd == nil {
		return paths, err
	}
	log.Info("installing the peer proxies from Debian's packages", "command", strings.Join(cmd, " "))
	if err := run(ctx, cmd); err != nil {
		// A fresh machine has no package lists yet.
		log.Info("apt-get install failed; updating the package lists and trying again", "error", err)
		if err := run(ctx, []string{"apt-get", "update"}); err != nil {
			return nil, fmt.Errorf("%w: failed to run apt-get update: %w", errPeersMissing, err)
		}
		if err := run(ctx, cmd); err != nil {
			return nil, fmt.Errorf("%w: failed to run %s: %w", errPeersMissing, strings.Join(cmd, " "), err)
		}
	}
	if paths, missing = lookPeers(); len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s still not found after apt-get install", errPeersMissing, strings.Join(missing, " and "))
	}
	return paths, nil
}

func lookPeers() (paths map[string]string, missing []string) {
	paths = map[string]string{}
	for _, p := range peerPrograms {
		if path, ok := lookPeer(p.program); ok {
			paths[p.program] = path
		} else {
			missing = append(missing, p.program)
		}
	}
	return paths, missing
}

// run runs one apt-get command, non-interactive and bounded in time.
func run(ctx context.Context, argv []string) error {
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := c.CombinedOutput(); err != nil {
		tail := out
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("%w\n%s", err, tail)
	}
	return nil
}
