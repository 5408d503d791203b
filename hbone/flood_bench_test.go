package hbone

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/hbone/identity"
)

// floodServerEnv names the directory a child test process serves from (see TestMain).
const floodServerEnv = "HBONE_FLOOD_SERVER_DIR"

// TestMain runs the package's tests, or, in the child process of BenchmarkFloodServerRSS,
// an HBONE server with the default Limits whose memory the benchmark reads.
func TestMain(m *testing.M) {
	if dir := os.Getenv(floodServerEnv); dir != "" {
		if err := runFloodServer(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runFloodServer writes a CA and a client's credentials into dir, serves HBONE with the
// default Limits on loopback (any target on 127.0.0.1), prints its address and serves until
// its stdin closes.
func runFloodServer(dir string) error {
	ca, err := identity.NewRootCA(testTrustDomain, time.Hour)
	if err != nil {
		return err
	}
	issue := func(sa string) (*identity.Issued, error) {
		id, err := identity.WorkloadID(testTrustDomain, "ns1", sa)
		if err != nil {
			return nil, err
		}
		return ca.Issue(identity.Workload{ID: id, Cluster: "c1"}, time.Hour)
	}
	server, err := issue("waypoint")
	if err != nil {
		return err
	}
	client, err := issue("client")
	if err != nil {
		return err
	}
	if err := identity.WriteFiles(dir, client, ca.CertPEM()); err != nil {
		return err
	}
	m, err := identity.NewMaterial(server.CertPEM, server.KeyPEM, ca.CertPEM())
	if err != nil {
		return err
	}
	srv, err := NewServer(ServerOptions{Source: identity.NewStaticSource(m), Logger: quietLogger,
		Handler: HandlerFunc(func(ctx context.Context, req *Request) (net.Conn, error) {
			if !req.Target.Addr().IsLoopback() {
				return nil, Deny(ReasonDenied)
			}
			var d net.Dialer
			return d.DialContext(ctx, "tcp", req.Target.String())
		})})
	if err != nil {
		return err
	}
	tcp, udp, err := Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = srv.Serve(tcp, udp) }()
	fmt.Printf("ADDR %s\n", tcp.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return srv.Close()
}

// floodServer is a child process serving HBONE with the default Limits (runFloodServer).
type floodServer struct {
	addr, pid, dir string
}

// startFloodServer starts a fresh server process, stopped when b ends.
func startFloodServer(b *testing.B) *floodServer {
	b.Helper()
	dir := b.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), floodServerEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return &floodServer{addr: strings.TrimSpace(strings.TrimPrefix(line, "ADDR ")), pid: strconv.Itoa(cmd.Process.Pid), dir: dir}
}

// settledRSS waits for the server to settle and returns its resident set size.
func (s *floodServer) settledRSS() uint64 {
	time.Sleep(3 * time.Second)
	return rssOf(s.pid)
}

// report adds the server's RSS before (idle) and under the abuse to b's results.
func reportRSS(b *testing.B, idle, under uint64) {
	b.ReportMetric(float64(idle)/(1<<20), "idle-RSS-MiB")
	b.ReportMetric(float64(under)/(1<<20), "server-RSS-MiB")
}

// BenchmarkFloodServerRSS measures the resident memory of a server with the default Limits,
// in a fresh process of its own per abuse of issue 15: 5,000 idle TCP connections, or 5,000
// stalled TLS handshakes, from one source and from 80 sources (enough to fill
// MaxConnections), and 3,000 authenticated tunnels nobody uses. Run with -benchtime=1x.
func BenchmarkFloodServerRSS(b *testing.B) {
	many := make([]net.IP, 80)
	for i := range many {
		many[i] = net.IPv4(127, 0, 1, byte(i+1))
	}
	floods := []struct {
		name    string
		hello   []byte
		sources []net.IP
	}{
		{"idle-tcp/1-source", nil, []net.IP{attackerIP}},
		{"stalled-tls/1-source", partialHello, []net.IP{attackerIP}},
		{"idle-tcp/80-sources", nil, many},
		{"stalled-tls/80-sources", partialHello, many},
	}
	for _, fl := range floods {
		b.Run(fl.name, func(b *testing.B) {
			for b.Loop() {
				srv := startFloodServer(b)
				idle := srv.settledRSS()
				f := startFloodFrom(srv.addr, 5000, fl.hello, fl.sources)
				under := srv.settledRSS()
				f.stop()
				reportRSS(b, idle, under)
			}
		})
	}
	b.Run("half-open-tunnels", func(b *testing.B) {
		silent := upstream(b, func(c *net.TCPConn) { _, _ = io.Copy(io.Discard, c) })
		for b.Loop() {
			srv := startFloodServer(b)
			src, err := identity.NewFileSource(filepath.Join(srv.dir, identity.CertFileName), filepath.Join(srv.dir, identity.KeyFileName), filepath.Join(srv.dir, identity.CAFileName), quietLogger)
			if err != nil {
				b.Fatal(err)
			}
			idle := srv.settledRSS()
			d := newTestDialer(b, src, nil)
			var open []*Conn
			for range 3000 {
				c, err := d.Dial(b.Context(), Peer{Address: srv.addr, Protocol: ProtocolH2}, netip.AddrPortFrom(silent.Addr(), silent.Port()), Metadata{})
				if err != nil {
					b.Fatal(err)
				}
				open = append(open, c)
			}
			under := srv.settledRSS()
			for _, c := range open {
				_ = c.Close()
			}
			reportRSS(b, idle, under)
		}
	})
}
