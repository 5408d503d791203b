package hbone

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/meshfed/meshfed/hbone/identity"
)

var errPoolClosed = errors.New("hbone: dialer closed")

// Protocol selects the transport of a tunnel.
type Protocol int

// Protocols.
const (
	// ProtocolH2 is HTTP/2 over TLS 1.3 on TCP.
	ProtocolH2 Protocol = iota
	// ProtocolH3 is HTTP/3 over QUIC, falling back to HTTP/2 when QUIC cannot connect.
	ProtocolH3
	// ProtocolH3Only is HTTP/3 without fallback.
	ProtocolH3Only
)

// String returns "h2", "h3" or "h3-only".
func (p Protocol) String() string {
	switch p {
	case ProtocolH2:
		return "h2"
	case ProtocolH3:
		return "h3"
	case ProtocolH3Only:
		return "h3-only"
	default:
		return fmt.Sprintf("Protocol(%d)", int(p))
	}
}

// Peer is the HBONE server a tunnel goes through.
type Peer struct {
	// Address is host:port of the peer's HBONE port (TCP and UDP).
	Address string
	// Identity is the SPIFFE ID the peer must present; zero accepts any workload of the trust
	// domain.
	Identity identity.ID
	// Cluster is the member cluster the peer's certificate must name (identity.ClusterOf); ""
	// accepts any cluster or none.
	Cluster string
	// Protocol selects HTTP/2 or HTTP/3.
	Protocol Protocol
}

// Dialer opens tunnels through peers, pooling connections per (address, identity, protocol).
// It is safe for concurrent use; Close releases every connection.
type Dialer struct {
	opts    Options
	baggage string // FormatBaggage(opts.Locality), sent with every tunnel request
	pool    *pool
	h3      *http3.Transport

	mu       sync.Mutex
	h3Broken map[string]time.Time // peer key → HTTP/2-only until

	stopSweeper context.CancelFunc
	sweeperDone chan struct{}
}

// NewDialer returns a Dialer; it does no I/O until the first Dial.
func NewDialer(opts Options) (*Dialer, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	d := &Dialer{
		opts:        opts,
		baggage:     FormatBaggage(opts.Locality),
		h3:          &http3.Transport{DisableCompression: true},
		h3Broken:    map[string]time.Time{},
		sweeperDone: make(chan struct{}),
	}
	d.pool = newPool(d.dialMux, &d.opts)
	ctx, cancel := context.WithCancel(context.Background())
	d.stopSweeper = cancel
	go func() {
		defer close(d.sweeperDone)
		d.pool.runSweeper(ctx)
	}()
	return d, nil
}

// Close closes every pooled connection; open tunnels on them end.
func (d *Dialer) Close() error {
	d.stopSweeper()
	<-d.sweeperDone
	d.pool.closeAll()
	return nil
}

// Dial opens a tunnel to target through peer. Failures are *Error values whose Kind tells a
// load balancer what went wrong. The returned Conn must be closed.
func (d *Dialer) Dial(ctx context.Context, peer Peer, target netip.AddrPort, md Metadata) (*Conn, error) {
	return d.dial(ctx, peer, target.String(), md)
}

// DialService opens a tunnel to the service host (a DNS name, see ParseServiceAuthority) on
// port through peer, which picks one of the service's endpoints; the peer's server must
// accept service targets (ServerOptions.ServiceTargets). Failures are as Dial's.
func (d *Dialer) DialService(ctx context.Context, peer Peer, host string, port uint16, md Metadata) (*Conn, error) {
	return d.dial(ctx, peer, FormatServiceAuthority(host, port), md)
}

// dial opens a tunnel to authority through peer, over HTTP/3 first when the peer asks for it.
func (d *Dialer) dial(ctx context.Context, peer Peer, authority string, md Metadata) (*Conn, error) {
	if peer.Protocol == ProtocolH3 && !d.h3Suspended(peer) {
		c, err := d.dialProtocol(ctx, peer, ProtocolH3, authority, md)
		if err == nil || !fallbackWorthy(err) || ctx.Err() != nil {
			return c, err
		}
		d.suspendH3(peer)
		d.opts.Logger.Info("Falling back to HTTP/2", "peer", peer.Address, "error", err)
	}
	proto := peer.Protocol
	if proto == ProtocolH3 {
		proto = ProtocolH2
	}
	return d.dialProtocol(ctx, peer, proto, authority, md)
}

// ConnCount returns how many connections the pool holds to peer over protocol (ProtocolH2
// or ProtocolH3).
func (d *Dialer) ConnCount(peer Peer, protocol Protocol) int {
	return d.pool.connCount(keyOf(peer, protocol))
}

func keyOf(peer Peer, protocol Protocol) poolKey {
	return poolKey{addr: peer.Address, identity: peer.Identity.String(), cluster: peer.Cluster, protocol: wire(protocol)}
}

func wire(p Protocol) Protocol {
	if p == ProtocolH3Only {
		return ProtocolH3
	}
	return p
}

func (d *Dialer) dialProtocol(ctx context.Context, peer Peer, proto Protocol, authority string, md Metadata) (*Conn, error) {
	key := keyOf(peer, proto)
	fail := func(kind Kind, status int, reason string, err error) error {
		return &Error{Kind: kind, Status: status, Reason: reason, Peer: peer.Address, Target: authority, Err: err}
	}
	m, _, err := d.pool.get(ctx, key)
	if err != nil {
		return nil, fail(classify(err), 0, "", err)
	}
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Host: authority},
		Host:   authority,
		Header: requestHeader(d.baggage, md),
	}
	s, resp, release, err := m.open(ctx, req)
	if err != nil {
		return nil, fail(classify(err), 0, "", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fail(kindForStatus(resp.StatusCode), resp.StatusCode, resp.Header.Get(ReasonHeader), nil)
	}
	local, remote := muxAddrs(m)
	return &Conn{s: s, protocol: wire(proto), local: local, remote: remote, release: release}, nil
}

func muxAddrs(m mux) (net.Addr, net.Addr) {
	switch m := m.(type) {
	case *h2Mux:
		return m.local, m.remote
	case *h3Mux:
		return h3Addrs(m)
	}
	return nil, nil
}

// dialMux is the pool's dial function: one new connection for key, usable for new tunnels
// while the Source's Material is the one it was made with and neither side's certificate has
// expired. A rotated certificate thus carries every tunnel opened after the rotation, and
// tunnels open before it run on their connection to their end (make-before-break).
func (d *Dialer) dialMux(ctx context.Context, key poolKey) (mux, func(time.Time) bool, error) {
	id, err := identity.ParseIDOrZero(key.identity)
	if err != nil {
		return nil, nil, err
	}
	want := identity.Workload{ID: id, Cluster: key.cluster}
	mat := d.opts.Source.Material()
	proto := "h2"
	if key.protocol == ProtocolH3 {
		proto = http3.NextProtoH3
	}
	conf := identity.ClientConfig(identity.NewStaticSource(mat), want, []string{proto})
	notAfter := mat.Certificate.Leaf.NotAfter
	verify := conf.VerifyConnection
	conf.VerifyConnection = func(cs tls.ConnectionState) error {
		if err := verify(cs); err != nil {
			return err
		}
		if peer := cs.PeerCertificates[0].NotAfter; peer.Before(notAfter) {
			notAfter = peer
		}
		return nil
	}
	var m mux
	if key.protocol == ProtocolH3 {
		m, err = d.dialH3(ctx, key, conf)
	} else {
		m, err = d.dialH2(ctx, key, conf)
	}
	if err != nil {
		return nil, nil, err
	}
	usable := func(now time.Time) bool { return d.opts.Source.Material() == mat && now.Before(notAfter) }
	return m, usable, nil
}

func (d *Dialer) h3Suspended(peer Peer) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	until, ok := d.h3Broken[peer.Address]
	if ok && time.Now().After(until) {
		delete(d.h3Broken, peer.Address)
		return false
	}
	return ok
}

func (d *Dialer) suspendH3(peer Peer) {
	d.mu.Lock()
	d.h3Broken[peer.Address] = time.Now().Add(d.opts.H3RetryAfter)
	d.mu.Unlock()
}

// fallbackWorthy reports whether an HTTP/3 failure means QUIC could not reach the peer, as
// opposed to the peer answering or failing identity checks.
func fallbackWorthy(err error) bool {
	k := KindOf(err)
	return k == KindUnreachable || k == KindTimeout
}

// classify maps a transport error to a Kind. Whatever refused the peer's certificate is an
// identity failure: identity.ErrRejected from our own verification (as HTTP/2 reports it),
// a TLS alert or a QUIC crypto error (as HTTP/3 and a refusing server report it).
func classify(err error) Kind {
	if errors.Is(err, identity.ErrRejected) || errors.Is(err, identity.ErrNoPeerCertificate) || isCertError(err) {
		return KindIdentity
	}
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return KindIdentity
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return KindTimeout
	}
	return KindUnreachable
}
