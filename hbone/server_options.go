package hbone

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/meshfed/meshfed/hbone/identity"
)

// Defaults of Limits.
const (
	DefaultMaxConcurrentStreams    = 100
	DefaultMaxHeaderBytes          = 16 << 10
	DefaultHandshakeTimeout        = 5 * time.Second
	DefaultServerIdleTimeout       = 5 * time.Minute
	DefaultTunnelIdleTimeout       = time.Hour
	DefaultUpstreamTimeout         = 5 * time.Second
	DefaultMaxConnections          = 4096
	DefaultMaxConnectionsPerSource = 1024
	DefaultMaxHandshakesPerSource  = 64
	DefaultMaxTunnels              = 16384
	DefaultMaxTunnelsPerSource     = 4096
)

// Limits bound what clients can make a Server hold. A source is an IPv4 address or an IPv6
// /64; the caps count TCP and QUIC connections together.
type Limits struct {
	// MaxConcurrentStreams is the stream limit per connection announced to clients.
	MaxConcurrentStreams int
	// MaxHeaderBytes bounds a request's header block.
	MaxHeaderBytes int
	// HandshakeTimeout bounds the TLS (or QUIC) handshake of a new connection; a connection
	// that has not completed it by then is closed.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection without streams after that long.
	IdleTimeout time.Duration
	// TunnelIdleTimeout closes a tunnel through which no byte passed, in either direction,
	// for that long (it closes after between 1 and 1.25 times the timeout). Envoy's TCP
	// proxy has the same default.
	TunnelIdleTimeout time.Duration
	// UpstreamTimeout bounds the Handler's decision and dial; past it the answer is 503.
	UpstreamTimeout time.Duration
	// MaxConnections bounds concurrently open connections (handshaking or not); further
	// connections are refused at once.
	MaxConnections int
	// MaxConnectionsPerSource bounds the concurrently open connections of one source.
	MaxConnectionsPerSource int
	// MaxHandshakesPerSource bounds the connections of one source that have not completed
	// their handshake: idle or slow TCP connections and unauthenticated clients from one
	// source cannot take more, so they cannot starve the others. A QUIC source holding that
	// many connections must answer a Retry (prove its address) before it gets more.
	MaxHandshakesPerSource int
	// MaxTunnels bounds the tunnels open at once (each holds an upstream socket, two
	// goroutines and its stream's buffers, ~18 KiB when idle); further CONNECTs are answered
	// 503 tunnel-limit. MaxTunnelsPerSource bounds those of one source, so that one caller
	// cannot take them all.
	MaxTunnels, MaxTunnelsPerSource int
}

// ServerOptions configure a Server.
type ServerOptions struct {
	// Source supplies the server certificate and the roots client certificates must chain to.
	Source identity.Source
	// Handler decides and dials every tunnel target; required.
	Handler Handler
	// Limits bound resource use; zero fields take the defaults.
	Limits Limits
	// Flow control and keepalive, as in Options (StreamWindow, ConnectionWindow, KeepAlive,
	// KeepAliveTimeout, MaxFrameSize); other fields are ignored.
	Transport Options
	// Logger receives the server's logs; slog.Default if nil.
	Logger *slog.Logger
	// ServiceTargets lets tunnels name a service instead of an endpoint (Request.Service,
	// ParseServiceAuthority); without it such a CONNECT is refused 400 bad-authority.
	ServiceTargets bool
}

func (o *ServerOptions) setDefaults() {
	l := &o.Limits
	setDefault(&l.MaxConcurrentStreams, DefaultMaxConcurrentStreams)
	setDefault(&l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&l.HandshakeTimeout, DefaultHandshakeTimeout)
	setDefault(&l.IdleTimeout, DefaultServerIdleTimeout)
	setDefault(&l.TunnelIdleTimeout, DefaultTunnelIdleTimeout)
	setDefault(&l.UpstreamTimeout, DefaultUpstreamTimeout)
	setDefault(&l.MaxConnections, DefaultMaxConnections)
	setDefault(&l.MaxConnectionsPerSource, min(DefaultMaxConnectionsPerSource, l.MaxConnections))
	setDefault(&l.MaxHandshakesPerSource, min(DefaultMaxHandshakesPerSource, l.MaxConnectionsPerSource))
	setDefault(&l.MaxTunnels, DefaultMaxTunnels)
	setDefault(&l.MaxTunnelsPerSource, min(DefaultMaxTunnelsPerSource, l.MaxTunnels))
	o.Transport.setDefaults()
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate reports options that cannot work.
func (o *ServerOptions) Validate() error {
	if o.Source == nil || o.Source.Material() == nil {
		return errors.New("hbone: ServerOptions.Source is required")
	}
	if o.Handler == nil {
		return errors.New("hbone: ServerOptions.Handler is required")
	}
	if l := o.Limits; l.MaxHandshakesPerSource > l.MaxConnectionsPerSource || l.MaxConnectionsPerSource > l.MaxConnections {
		return fmt.Errorf("hbone: limits must keep handshakes per source (%d) <= connections per source (%d) <= connections (%d)",
			l.MaxHandshakesPerSource, l.MaxConnectionsPerSource, l.MaxConnections)
	}
	if l := o.Limits; l.MaxTunnelsPerSource > l.MaxTunnels {
		return fmt.Errorf("hbone: limits must keep tunnels per source (%d) <= tunnels (%d)", l.MaxTunnelsPerSource, l.MaxTunnels)
	}
	return nil
}
