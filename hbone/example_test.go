package hbone_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
)

// Example opens one HBONE tunnel: a server whose handler lets callers reach a single upstream,
// and a dialer that tunnels to that upstream through it over HTTP/2 and mutual TLS. Both sides
// hold certificates of one development CA.
func Example() {
	ca, err := identity.NewRootCA("example.local", time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	// Each side's certificate names its SPIFFE ID and its cluster.
	issue := func(ns, sa, cluster string) identity.StaticSource {
		id, err := identity.WorkloadID(ca.TrustDomain(), ns, sa)
		if err != nil {
			log.Fatal(err)
		}
		cert, err := ca.Issue(identity.Workload{ID: id, Cluster: cluster}, time.Hour)
		if err != nil {
			log.Fatal(err)
		}
		m, err := identity.NewMaterial(cert.CertPEM, cert.KeyPEM, ca.CertPEM())
		if err != nil {
			log.Fatal(err)
		}
		return identity.NewStaticSource(m)
	}
	server, client := issue("shop", "meshfed-waypoint", "west"), issue("shop", "client", "east")
	if err := tunnelOnce(server, client); err != nil {
		log.Fatal(err)
	}
	// Output:
	// hello from the upstream, to a caller of cluster east
	// over h2
}

// tunnelOnce runs the upstream, the server and the dialer of Example and reads the upstream's
// line through one tunnel.
func tunnelOnce(server, client identity.Source) error {

	// The upstream: answers one line and closes.
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer up.Close()
	go func() {
		for {
			c, err := up.Accept()
			if err != nil {
				return
			}
			fmt.Fprint(c, "hello from the upstream")
			c.Close()
		}
	}()
	upstream := netip.MustParseAddrPort(up.Addr().String())

	// The server: its handler is the authorization hook; it never dials anything else.
	quiet := slog.New(slog.DiscardHandler)
	callerCluster := make(chan string, 1)
	srv, err := hbone.NewServer(hbone.ServerOptions{
		Source: server,
		Logger: quiet,
		Handler: hbone.HandlerFunc(func(ctx context.Context, req *hbone.Request) (net.Conn, error) {
			if req.Target != upstream {
				return nil, hbone.Deny("not a local endpoint")
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", req.Target.String())
			if err == nil {
				// The caller's cluster comes from its certificate, never from a header.
				callerCluster <- req.CallerCluster
			}
			return c, err
		}),
	})
	if err != nil {
		return err
	}
	tcp, udp, err := hbone.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = srv.Serve(tcp, udp) }()
	defer srv.Close()

	// The dialer: pools connections per peer; each Dial is one tunnel.
	d, err := hbone.NewDialer(hbone.Options{Source: client, Logger: quiet})
	if err != nil {
		return err
	}
	defer d.Close()
	// The server's certificate must name cluster west.
	peer := hbone.Peer{Address: tcp.Addr().String(), Cluster: "west", Protocol: hbone.ProtocolH2}
	conn, err := d.Dial(context.Background(), peer, upstream, hbone.Metadata{})
	if err != nil {
		return err
	}
	defer conn.Close()
	line, err := io.ReadAll(conn)
	if err != nil {
		return err
	}
	fmt.Println(string(line)+", to a caller of cluster", <-callerCluster)
	fmt.Println("over", conn.Protocol())
	return nil
}
