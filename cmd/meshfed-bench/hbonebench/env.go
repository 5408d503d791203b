package hbonebench

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
)

func newEnv() (*env, error) {
	ca, err := identity.NewRootCA("bench.local", time.Hour)
	if err != nil {
		return nil, err
	}
	e := &env{}
	server, err := material(ca, "waypoint")
	if err != nil {
		return nil, err
	}
	client, err := material(ca, "client")
	if err != nil {
		return nil, err
	}
	e.client = identity.NewStaticSource(client)
	if e.sink, err = e.serveTCP(sink); err != nil {
		return nil, err
	}
	if e.echo, err = e.serveTCP(echo); err != nil {
		e.close()
		return nil, err
	}
	if err := e.startHBONE(identity.NewStaticSource(server)); err != nil {
		e.close()
		return nil, err
	}
	if err := e.startTLSProxy(identity.NewStaticSource(server)); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func material(ca *identity.CA, sa string) (*identity.Material, error) {
	id, err := identity.WorkloadID("bench.local", "bench", sa)
	if err != nil {
		return nil, err
	}
	issued, err := ca.Issue(identity.Workload{ID: id}, time.Hour)
	if err != nil {
		return nil, err
	}
	return identity.NewMaterial(issued.CertPEM, issued.KeyPEM, ca.CertPEM())
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

func (e *env) serveTCP(fn func(net.Conn)) (netip.AddrPort, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return netip.AddrPort{}, err
	}
	e.closers = append(e.closers, func() { ln.Close() })
	go acceptLoop(ln, fn)
	return ln.Addr().(*net.TCPAddr).AddrPort(), nil
}

func acceptLoop(ln net.Listener, fn func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			fn(c)
		}()
	}
}

// sink discards everything and answers the byte count after FIN.
func sink(c net.Conn) {
	n, err := io.Copy(io.Discard, c)
	if err != nil {
		return
	}
	var ack [8]byte
	binary.BigEndian.PutUint64(ack[:], uint64(n))
	_, _ = c.Write(ack[:]) // the client sees a short ack as a failed round
}

func echo(c net.Conn) { _, _ = io.Copy(c, c) } // ends when either side closes

func (e *env) startHBONE(src identity.Source) error {
	hook := hbone.HandlerFunc(func(ctx context.Context, req *hbone.Request) (net.Conn, error) {
		if !req.Target.Addr().IsLoopback() {
			return nil, hbone.Deny(hbone.ReasonDenied)
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", req.Target.String())
	})
	srv, err := hbone.NewServer(hbone.ServerOptions{Source: src, Handler: hook, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	tcp, udp, err := hbone.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = srv.Serve(tcp, udp); close(done) }() // returns on Close
	e.closers = append(e.closers, func() { srv.Close(); <-done })
	e.hboneAddr, e.server = tcp.Addr().String(), srv
	return nil
}

// startTLSProxy terminates TLS 1.3 and splices to 127.0.0.1:<port> named by the first two
// bytes: the same hop as HBONE without the HTTP layer.
func (e *env) startTLSProxy(src identity.Source) error {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", identity.ServerConfig(src, nil))
	if err != nil {
		return err
	}
	e.closers = append(e.closers, func() { ln.Close() })
	e.tlsAddr = ln.Addr().String()
	go acceptLoop(ln, func(c net.Conn) {
		var port [2]byte
		if _, err := io.ReadFull(c, port[:]); err != nil {
			return
		}
		up, err := net.Dial("tcp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), binary.BigEndian.Uint16(port[:])).String())
		if err != nil {
			return
		}
		defer up.Close()
		go func() {
			_, _ = io.Copy(up, c)
			_ = up.(*net.TCPConn).CloseWrite() // carry the client's FIN upstream
		}()
		_, _ = io.Copy(c, up)
	})
	return nil
}
