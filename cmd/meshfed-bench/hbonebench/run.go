package hbonebench

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/meshfed/meshfed/hbone"
	"github.com/meshfed/meshfed/hbone/identity"
)

// Result holds the figures of one transport.
type Result struct {
	Name             string
	Single, Parallel float64 // bytes per second
	P50, P99         time.Duration
	SetupNew         time.Duration
	SetupPooled      time.Duration
}

// dialFunc opens one connection to the upstream at target through the transport under test.
type dialFunc func(ctx context.Context, target netip.AddrPort) (net.Conn, error)

// env is the loopback setup shared by every transport: upstreams, an HBONE server and a
// TLS-terminating proxy with the same hop to the upstream.
type env struct {
	sink, echo netip.AddrPort
	hboneAddr  string
	tlsAddr    string
	client     identity.Source
	server     *hbone.Server
	closers    []func()
}

// Run measures every transport and returns one Result each.
func Run(ctx context.Context, f Flags) ([]Result, error) {
	e, err := newEnv()
	if err != nil {
		return nil, err
	}
	defer e.close()
	var out []Result
	for _, tr := range []struct {
		name string
		mk   func() (dialFunc, func(), error)
	}{
		{"tcp", e.tcpDial},
		{"tls", e.tlsDial},
		{"hbone/h2", e.hboneDial(hbone.ProtocolH2)},
		{"hbone/h3", e.hboneDial(hbone.ProtocolH3Only)},
	} {
		r, err := e.measure(ctx, tr.name, tr.mk, f)
		if err != nil {
			return nil, fmt.Errorf("failed to measure transport %s: %w", tr.name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (e *env) measure(ctx context.Context, name string, mk func() (dialFunc, func(), error), f Flags) (Result, error) {
	dial, done, err := mk()
	if err != nil {
		return Result{}, err
	}
	defer done()
	r := Result{Name: name}
	if r.Single, err = throughput(ctx, dial, e.sink, 1, f.Duration); err != nil {
		return r, err
	}
	if r.Parallel, err = throughput(ctx, dial, e.sink, f.Parallel, f.Duration); err != nil {
		return r, err
	}
	if r.P50, r.P99, err = latency(ctx, dial, e.echo, f.Duration); err != nil {
		return r, err
	}
	if name == "hbone/h2" || name == "hbone/h3" {
		r.SetupNew, r.SetupPooled, err = e.setup(ctx, name, f.SetupRounds)
	}
	return r, err
}

// throughput writes to the sink on n streams for d and returns bytes per second, counted
// when the sink confirmed receipt after FIN.
func throughput(ctx context.Context, dial dialFunc, sink netip.AddrPort, n int, d time.Duration) (float64, error) {
	var total int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Go(func() {
			got, err := stream(ctx, dial, sink, d)
			mu.Lock()
			defer mu.Unlock()
			total += got
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait()
	return float64(total) / time.Since(start).Seconds(), firstErr
}

func stream(ctx context.Context, dial dialFunc, sink netip.AddrPort, d time.Duration) (int64, error) {
	c, err := dial(ctx, sink)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, 64<<10)
	var sent int64
	for end := time.Now().Add(d); time.Now().Before(end); {
		n, err := c.Write(buf)
		sent += int64(n)
		if err != nil {
			return sent, err
		}
	}
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		return sent, err
	}
	var ack [8]byte
	if _, err := io.ReadFull(c, ack[:]); err != nil {
		return sent, fmt.Errorf("failed to read sink acknowledgement %s: %w", sink, err)
	}
	return int64(binary.BigEndian.Uint64(ack[:])), nil
}

// latency ping-pongs 1 KiB messages over one established connection for d.
func latency(ctx context.Context, dial dialFunc, echo netip.AddrPort, d time.Duration) (p50, p99 time.Duration, err error) {
	c, err := dial(ctx, echo)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	msg, back := make([]byte, 1024), make([]byte, 1024)
	var samples []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end) && len(samples) < 1_000_000; {
		t0 := time.Now()
		if _, err := c.Write(msg); err != nil {
			return 0, 0, err
		}
		if _, err := io.ReadFull(c, back); err != nil {
			return 0, 0, err
		}
		samples = append(samples, time.Since(t0))
	}
	slices.Sort(samples)
	return samples[len(samples)/2], samples[len(samples)*99/100], nil
}

// setup times opening a tunnel on a fresh Dialer (new connection) and on a warm one (pooled).
func (e *env) setup(ctx context.Context, name string, rounds int) (fresh, pooled time.Duration, err error) {
	proto := hbone.ProtocolH2
	if name == "hbone/h3" {
		proto = hbone.ProtocolH3Only
	}
	peer := hbone.Peer{Address: e.hboneAddr, Protocol: proto}
	var freshS, pooledS []time.Duration
	warm, err := e.newDialer()
	if err != nil {
		return 0, 0, err
	}
	defer warm.Close()
	for i := range rounds {
		if i%10 == 0 {
			d, err := e.newDialer()
			if err != nil {
				return 0, 0, err
			}
			t0 := time.Now()
			c, err := d.Dial(ctx, peer, e.echo, hbone.Metadata{})
			freshS = append(freshS, time.Since(t0))
			if err != nil {
				d.Close()
				return 0, 0, err
			}
			c.Close()
			d.Close()
		}
		t0 := time.Now()
		c, err := warm.Dial(ctx, peer, e.echo, hbone.Metadata{})
		if i > 0 { // the first opens the connection
			pooledS = append(pooledS, time.Since(t0))
		}
		if err != nil {
			return 0, 0, err
		}
		c.Close()
	}
	return median(freshS), median(pooledS), nil
}

func median(s []time.Duration) time.Duration {
	slices.Sort(s)
	return s[len(s)/2]
}

func (e *env) newDialer() (*hbone.Dialer, error) {
	return hbone.NewDialer(hbone.Options{Source: e.client, Logger: slog.New(slog.DiscardHandler)})
}

func (e *env) tcpDial() (dialFunc, func(), error) {
	return func(ctx context.Context, t netip.AddrPort) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", t.String())
	}, func() {}, nil
}

// tlsDial connects to the TLS proxy, which reads the target port from the first 2 bytes.
func (e *env) tlsDial() (dialFunc, func(), error) {
	conf := identity.ClientConfig(e.client, identity.Workload{}, nil)
	return func(ctx context.Context, t netip.AddrPort) (net.Conn, error) {
		d := tls.Dialer{Config: conf}
		c, err := d.DialContext(ctx, "tcp", e.tlsAddr)
		if err != nil {
			return nil, err
		}
		var port [2]byte
		binary.BigEndian.PutUint16(port[:], t.Port())
		if _, err := c.Write(port[:]); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}, func() {}, nil
}

func (e *env) hboneDial(p hbone.Protocol) func() (dialFunc, func(), error) {
	return func() (dialFunc, func(), error) {
		d, err := e.newDialer()
		if err != nil {
			return nil, nil, err
		}
		peer := hbone.Peer{Address: e.hboneAddr, Protocol: p}
		return func(ctx context.Context, t netip.AddrPort) (net.Conn, error) {
			return d.Dial(ctx, peer, t, hbone.Metadata{})
		}, func() { d.Close() }, nil
	}
}
