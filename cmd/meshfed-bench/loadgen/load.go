package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshfed/meshfed/waypoint"
)

// RequestTimeout bounds one request, including reading the response.
const RequestTimeout = 5 * time.Second

// The open-loop phase's bounds: requests in flight (goroutines; far above what 1,000
// requests/s of sub-millisecond requests need, so that a stall of the machine queues requests
// rather than dropping them) and keep-alive connections (a pool a real client would have;
// requests beyond it wait for a connection, and the wait counts in their latency).
const (
	MaxInFlight = 4096
	PoolConns   = 64
)

// MaxRequests bounds the requests of one phase, open or closed loop.
const MaxRequests = 10_000_000

// Settle is the pause between phases, so that one phase's tail does not land in the next.
const Settle = 300 * time.Millisecond

// Target sends the benchmark's request, a POST of 1 KiB answered with 1 KiB, to one URL over
// a keep-alive pool.
type Target struct {
	url     string
	cluster string // expected X-Meshfed-Cluster, "" for the backend itself
	tr      *http.Transport
	client  *http.Client
}

// NewTarget is a client of url with up to conns keep-alive connections; cluster is the
// X-Meshfed-Cluster every answer must carry ("" for none: a backend or another proxy).
func NewTarget(url, cluster string, conns int) *Target {
	tr := &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}
	return &Target{url: url, cluster: cluster, tr: tr, client: &http.Client{Transport: tr, Timeout: RequestTimeout}}
}

// Close closes the idle connections of the pool.
func (t *Target) Close() { t.tr.CloseIdleConnections() }

// Do sends one request and reads the whole answer; anything but 200, 1 KiB, from the expected
// cluster is an error.
func (t *Target) Do(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(Payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	switch {
	case err != nil:
		return fmt.Errorf("failed to read response body: %w", err)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %d (%s)", resp.StatusCode, resp.Header.Get(waypoint.HeaderLocalReply))
	case n != int64(len(Payload)):
		return fmt.Errorf("response of %d bytes, want %d", n, len(Payload))
	case resp.Header.Get(waypoint.HeaderCluster) != t.cluster:
		return fmt.Errorf("answered by cluster %q, want %q", resp.Header.Get(waypoint.HeaderCluster), t.cluster)
	}
	return nil
}

// ErrNoSlot marks a request of the fixed-rate phase that was not sent: maxInFlight requests
// were already waiting.
var ErrNoSlot = errors.New("too many requests in flight")

// Sample is one request of the fixed-rate phase.
type Sample struct {
	sent    bool
	latency time.Duration // from the send to the end of the response body
	lag     time.Duration // from the scheduled send time to the send
	err     error
}

// Window is what the measured part of a fixed-rate phase saw.
type Window struct {
	Samples []Sample
	Elapsed time.Duration // from the first measured send until the last answer
}

// FixedRate sends at rate per second, open loop: request i is sent at start + i/rate whether
// or not earlier ones have been answered, each on its own goroutine, at most maxInFlight at a
// time (a request that finds no slot is not sent, and counted as dropped). The first warmup's
// worth of requests is not measured; begin runs just before the first measured send and end
// after the last measured answer. The count of requests is fixed up front and every request
// is bounded by RequestTimeout, so the phase ends.
func FixedRate(ctx context.Context, do func(context.Context) error, rate float64, warmup, measure time.Duration, maxInFlight int, begin, end func()) (Window, error) {
	interval := time.Duration(float64(time.Second) / rate)
	nWarm := int(warmup.Seconds() * rate)
	nMeasure := max(1, int(measure.Seconds()*rate))
	samples := make([]Sample, nWarm+nMeasure)
	slots := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	var measureStart time.Time
	start := time.Now()
	for i := range samples {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		if ctx.Err() != nil {
			wg.Wait()
			return Window{}, ctx.Err()
		}
		if i == nWarm {
			begin()
			measureStart = time.Now()
		}
		select {
		case slots <- struct{}{}:
		default:
			samples[i] = Sample{err: ErrNoSlot}
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			t0 := time.Now()
			err := do(ctx)
			samples[i] = Sample{sent: true, latency: time.Since(t0), lag: t0.Sub(at), err: err}
		})
	}
	wg.Wait()
	end()
	return Window{Samples: samples[nWarm:], Elapsed: time.Since(measureStart)}, nil
}

// ClosedLoop runs conc clients, each sending its next request when the last is answered, for
// d (and at most MaxRequests requests in all). It returns the answered and failed counts and
// the time taken.
func ClosedLoop(ctx context.Context, do func(context.Context) error, conc int, d time.Duration) (ok, failed int64, elapsed time.Duration) {
	var nOK, nFailed, budget atomic.Int64
	budget.Store(MaxRequests)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) && budget.Add(-1) >= 0 {
				if do(ctx) == nil {
					nOK.Add(1)
				} else {
					nFailed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return nOK.Load(), nFailed.Load(), time.Since(start)
}
