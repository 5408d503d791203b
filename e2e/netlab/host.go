package netlab

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// stateDir holds the host-wide lock and one owner file per lab in use (its PID).
const stateDir = "/run/meshfed-netlab"

// The range of X in the labs' 10.X.0.0/16.
const (
	firstOctet = 200
	lastOctet  = 249
)

// lockHost takes the host-wide lab lock; the returned function releases it.
func lockHost() (func(), error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", stateDir, err)
	}
	f, err := os.OpenFile(filepath.Join(stateDir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to open the lab lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("failed to take the lab lock: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

func ownerFile(octet int) string { return filepath.Join(stateDir, strconv.Itoa(octet)+".pid") }

func writeOwner(octet int) error {
	return os.WriteFile(ownerFile(octet), []byte(strconv.Itoa(os.Getpid())), 0o600)
}

func removeOwner(octet int) error {
	if err := os.Remove(ownerFile(octet)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// ownerAlive reports whether the lab of octet belongs to a running process.
func ownerAlive(octet int) (owned, alive bool) {
	b, err := os.ReadFile(ownerFile(octet))
	if err != nil {
		return false, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return true, false
	}
	return true, syscall.Kill(pid, 0) == nil
}

// sweepStale removes what labs of dead processes left behind: their namespaces (which takes
// their veths along) and owner files. Only names of the lab scheme (mf<X>-…) are touched.
func sweepStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for octet := firstOctet; octet <= lastOctet; octet++ {
		owned, alive := ownerAlive(octet)
		if alive {
			continue
		}
		prefix := fmt.Sprintf("mf%d-", octet)
		for line := range strings.Lines(string(out)) {
			name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			if strings.HasPrefix(name, prefix) {
				_ = ip("netns", "del", name)
			}
		}
		if linkExists(prefix + "host") {
			_ = ip("link", "del", prefix+"host")
		}
		if owned {
			_ = removeOwner(octet)
		}
	}
}

// freeOctet picks the first X whose lab is not in use and whose 10.X.0.0/16 no host
// interface has an address in.
func freeOctet() (int, error) {
	used, err := hostOctets()
	if err != nil {
		return 0, err
	}
	for octet := firstOctet; octet <= lastOctet; octet++ {
		if _, alive := ownerAlive(octet); alive || used[octet] {
			continue
		}
		return octet, nil
	}
	return 0, fmt.Errorf("no free 10.X.0.0/16 for X in %d-%d: every range is in use on this host", firstOctet, lastOctet)
}

// hostOctets lists the X of every 10.X.*.* address of the host's interfaces.
func hostOctets() (map[int]bool, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("failed to list host addresses: %w", err)
	}
	out := map[int]bool{}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		if v4 := ipn.IP.To4(); v4 != nil && v4[0] == 10 {
			out[int(v4[1])] = true
		}
	}
	return out, nil
}
