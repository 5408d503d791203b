package system

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchproc"
)

// What the harness's processes cost, read from /proc: CPU time and memory through
// cmd/meshfed-bench/benchproc (the module's one reader of /proc/<pid>/stat and status), and
// their TCP connections.

// PID is the process's id. A program started in a pod is that program itself: ip netns exec
// switches namespaces and execs it, without forking.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Command is the process's command name as the kernel has it (/proc/<pid>/comm, at most 15
// bytes), for checking that PID is the program meant and not a wrapper.
func (p *Process) Command() (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID()) + "/comm")
	if err != nil {
		return "", fmt.Errorf("failed to read the command of %s: %w", p.Name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SumUsage reads the CPU time and memory of each process (benchproc.ReadUsage, children not
// included) and sums them: utime+stime in seconds, VmRSS, VmHWM and RssAnon in bytes. In RSS
// and HWM the pages the processes share (the binary's text) count once per process, as ps and
// top count them; Anon is their own memory only. A process that has exited is an error.
func SumUsage(ps ...*Process) (benchproc.Usage, error) {
	var total benchproc.Usage
	for _, p := range ps {
		if p.Exited() {
			return benchproc.Usage{}, fmt.Errorf("%s has exited", p.Name)
		}
		u, err := benchproc.ReadUsage(p.PID())
		if err != nil {
			return benchproc.Usage{}, fmt.Errorf("%s: %w", p.Name, err)
		}
		total.Add(u)
	}
	return total, nil
}

// tcpEstablished is the state column of an established socket in /proc/net/tcp.
const tcpEstablished = "01"

// TCPConnections counts the process's established TCP connections (IPv4 and IPv6) whose remote
// port is port: the sockets of its network namespace (/proc/<pid>/net/tcp, tcp6) that it holds
// open (socket inodes among /proc/<pid>/fd), so another process of the same pod is not counted.
func (p *Process) TCPConnections(port int) (int, error) {
	dir := "/proc/" + strconv.Itoa(p.PID())
	fds, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		return 0, fmt.Errorf("failed to list the files of %s: %w", p.Name, err)
	}
	held := make(map[string]bool, len(fds))
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(dir, "fd", fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if inode, ok := strings.CutPrefix(link, "socket:["); ok {
			held[strings.TrimSuffix(inode, "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(filepath.Join(dir, "net", table))
		if err != nil {
			return 0, fmt.Errorf("failed to read the %s sockets of %s: %w", table, p.Name, err)
		}
		c, err := countConnections(b, port, held)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p.Name, err)
		}
		n += c
	}
	return n, nil
}

// countConnections counts the lines of a /proc/net/tcp or tcp6 table that are established
// connections to remote port port with an inode in held.
func countConnections(table []byte, port int, held map[string]bool) (int, error) {
	want := fmt.Sprintf(":%04X", port)
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(table))
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			return 0, fmt.Errorf("failed to parse a socket line %q", sc.Text())
		}
		if f[3] == tcpEstablished && strings.HasSuffix(f[2], want) && held[f[9]] {
			n++
		}
	}
	return n, sc.Err()
}
