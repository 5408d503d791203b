package hbone

import (
	"errors"
	"log/slog"
	"time"

	"github.com/meshfed/meshfed/hbone/identity"
)

// Defaults of Limits.
const (
	DefaultMaxConcurrentStreams = 100
	DefaultMaxHeaderBytes       = 16 << 10
	DefaultHandshakeTimeout     = 10 * time.Second
	DefaultServerIdleTimeout    = 5 * time.Minute
	DefaultUpstreamTimeout      = 5 * time.Second
	DefaultMaxConnections       = 4096
)

// Limits bound what one client can make a Server hold.
type Limits struct {
	// MaxConcurrentStreams is the stream limit per connection announced to clients.
	MaxConcurrentStreams int
	// MaxHeaderBytes bounds a request's header block.
	MaxHeaderBytes int
	// HandshakeTimeout bounds the TLS (or QUIC) handshake of a new connection.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection without streams after that long.
	IdleTimeout time.Duration
	// UpstreamTimeout bounds the Handler's decision and dial; past it the answer is 503.
	UpstreamTimeout time.Duration
	// MaxConnections bounds concurrently open TCP connections (handshaking or not); further
	// connections are closed on accept.
	MaxConnections int
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
}

func (o *ServerOptions) setDefaults() {
	l := &o.Limits
	setDefault(&l.MaxConcurrentStreams, DefaultMaxConcurrentStreams)
	setDefault(&l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&l.HandshakeTimeout, DefaultHandshakeTimeout)
	setDefault(&l.IdleTimeout, DefaultServerIdleTimeout)
	setDefault(&l.UpstreamTimeout, DefaultUpstreamTimeout)
	setDefault(&l.MaxConnections, DefaultMaxConnections)
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
	return nil
}
