package hbone

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/meshfed/meshfed/hbone/identity"
)

// Defaults of Options (DESIGN §5; windows as ztunnel's).
const (
	DefaultStreamWindow       = 4 << 20
	DefaultConnectionWindow   = 16 << 20
	DefaultMaxFrameSize       = 64 << 10
	DefaultKeepAlive          = 10 * time.Second
	DefaultKeepAliveTimeout   = 20 * time.Second
	DefaultIdleTimeout        = 90 * time.Second
	DefaultDialTimeout        = 10 * time.Second
	DefaultH3HandshakeTimeout = 2 * time.Second
	DefaultH3RetryAfter       = time.Minute
	DefaultMaxStreamsPerConn  = 100
	// DefaultStallTimeout is well past a retransmission timeout of a live path (200 ms minimum
	// on Linux, plus the round trip) and leaves a caller that allows 2 s per try room to retry
	// once a dead path is noticed.
	DefaultStallTimeout = 1500 * time.Millisecond
)

// Options configure a Dialer. Zero fields take the defaults above.
type Options struct {
	// Source supplies the workload certificate and roots; required.
	Source identity.Source
	// Locality is sent in the Baggage header of every tunnel request.
	Locality Locality
	// StreamWindow and ConnectionWindow are the receive flow-control windows.
	StreamWindow, ConnectionWindow int
	// MaxFrameSize is the largest HTTP/2 frame the dialer accepts.
	MaxFrameSize int
	// KeepAlive is the PING interval on idle connections; KeepAliveTimeout closes a connection
	// whose peer stays silent that long.
	KeepAlive, KeepAliveTimeout time.Duration
	// IdleTimeout closes pooled connections without tunnels after that long.
	IdleTimeout time.Duration
	// DialTimeout bounds establishing one connection (TCP or QUIC plus TLS).
	DialTimeout time.Duration
	// H3HandshakeTimeout bounds a QUIC handshake before falling back to HTTP/2.
	H3HandshakeTimeout time.Duration
	// H3RetryAfter is how long a peer whose HTTP/3 failed is reached over HTTP/2 only.
	H3RetryAfter time.Duration
	// StallTimeout closes an HTTP/2 connection whose peer has acknowledged nothing for that
	// long while data waited for its acknowledgement and a retransmission timeout has fired
	// (TCP_INFO, Linux only): the path is gone, though nothing told the connection so. Its
	// tunnels and the CONNECTs waiting on it fail at once, and so do tunnel opens to the peer
	// until a new connection to it completes, so that callers retry elsewhere. A stall is
	// noticed up to a fifth of StallTimeout late; a peer whose process is slow or stopped is
	// not closed, as its kernel still acknowledges. Make it well above the path's round-trip
	// time. Zero takes DefaultStallTimeout, negative turns the check off (KeepAlive and
	// KeepAliveTimeout then notice a dead path); at least 200 ms.
	StallTimeout time.Duration
	// MaxStreamsPerConn is the HTTP/3 stream limit assumed per connection (QUIC does not
	// expose the peer's); HTTP/2 uses the limit the peer announces.
	MaxStreamsPerConn int
	// Logger receives Debug and Info logs; slog.Default if nil.
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	setDefault(&o.StreamWindow, DefaultStreamWindow)
	setDefault(&o.ConnectionWindow, DefaultConnectionWindow)
	setDefault(&o.MaxFrameSize, DefaultMaxFrameSize)
	setDefault(&o.KeepAlive, DefaultKeepAlive)
	setDefault(&o.KeepAliveTimeout, DefaultKeepAliveTimeout)
	setDefault(&o.IdleTimeout, DefaultIdleTimeout)
	setDefault(&o.DialTimeout, DefaultDialTimeout)
	setDefault(&o.H3HandshakeTimeout, DefaultH3HandshakeTimeout)
	setDefault(&o.H3RetryAfter, DefaultH3RetryAfter)
	setDefault(&o.MaxStreamsPerConn, DefaultMaxStreamsPerConn)
	if o.StallTimeout == 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	if o.Source == nil || o.Source.Material() == nil {
		return errors.New("hbone: Options.Source is required")
	}
	if o.StreamWindow > o.ConnectionWindow {
		return errors.New("hbone: StreamWindow must not exceed ConnectionWindow")
	}
	if o.StallTimeout > 0 && o.StallTimeout < minStallTimeout {
		return fmt.Errorf("hbone: StallTimeout %s is below the minimum %s", o.StallTimeout, minStallTimeout)
	}
	return nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
