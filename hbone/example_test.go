package hbone_test

import (
	"context"
	"fmt"
	"io"
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
	if err := tunnelOnce(); err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	// hello from the upstream
	// over h2
}

// issue returns the certificate of workload ns/sa, signed by ca.
func issue(ca *identity.CA, ns, sa string) (identity.StaticSource, error) {
	id, err := identity.WorkloadID(ca.TrustDomain(), ns, sa)
	if err != nil {
		return identity.StaticSource{}, err
	}
	cert, err := ca.Issue(id, time.Hour)
	if err != nil {
		return identity.StaticSource{}, err
	}
	m, err := identity.NewMaterial(cert.CertPEM, cert.KeyPEM, ca.CertPEM())
	if err != nil {
		return identity.StaticSource{}, err
	}
	return identity.NewStaticSource(m), nil
}

func tunnelOnce() error {
	ca, err := identity.NewRootCA("example.local", time.Hour)
	if err != nil {
		return err
	}
	serverID, err := issue(ca, "shop", "meshfed-waypoint")
	if err != nil {
		return err
	}
	clientID, err := issue(ca, "shop", "client")
	if err != nil {
		return err
	}

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
			fmt.Fprintln(c, "hello from the upstream")
			c.Close()
		}
	}()
	upstream := netip.MustParseAddrPort(up.Addr().String())

	// The server: its handler is the authorization hook; it never dials anything else.
	quiet := slog.New(slog.DiscardHandler)
	srv, err := hbone.NewServer(hbone.ServerOptions{
		Source: serverID,
		Logger: quiet,
		Handler: hbone.HandlerFunc(func(ctx context.Context, req *hbone.Request) (net.Conn, error) {
			if req.Target != upstream {
				return nil, hbone.Deny("not a local endpoint")
			}
			var d net.Dialer
			return d.DialContext(ctx, "tcp", req.Target.String())
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
	d, err := hbone.NewDialer(hbone.Options{Source: clientID, Logger: quiet})
	if err != nil {
		return err
	}
	defer d.Close()
	peer := hbone.Peer{Address: tcp.Addr().String(), Protocol: hbone.ProtocolH2}
	conn, err := d.Dial(context.Background(), peer, upstream, hbone.Metadata{})
	if err != nil {
		return err
	}
	defer conn.Close()
	line, err := io.ReadAll(conn)
	if err != nil {
		return err
	}
	fmt.Print(string(line))
	fmt.Println("over", conn.Protocol())
	return nil
}
