package waypointbench

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

// requestTimeout bounds one request, including reading the response.
const requestTimeout = 5 * time.Second

// target sends the benchmark's request, a POST of 1 KiB answered with 1 KiB, to one URL over
// a keep-alive pool.
type target struct {
	url     string
	cluster string // expected X-Meshfed-Cluster, "" for the backend itself
	tr      *http.Transport
	client  *http.Client
}

func newTarget(url, cluster string, conns int) *target {
	tr := &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}
	return &target{url: url, cluster: cluster, tr: tr, client: &http.Client{Transport: tr, Timeout: requestTimeout}}
}

func (t *target) close() { t.tr.CloseIdleConnections() }

// do sends one request and reads the whole answer; anything but 200, 1 KiB, from the expected
// cluster is an error.
func (t *target) do(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(payload))
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
	case n != int64(len(payload)):
		return fmt.Errorf("response of %d bytes, want %d", n, len(payload))
	case resp.Header.Get(waypoint.HeaderCluster) != t.cluster:
		return fmt.Errorf("answered by cluster %q, want %q", resp.Header.Get(waypoint.HeaderCluster), t.cluster)
	}
	return nil
}

// errNoSlot marks a request of the fixed-rate phase that was not sent: maxInFlight requests
// were already waiting.
var errNoSlot = errors.New("too many requests in flight")

// sample is one request of the fixed-rate phase.
type sample struct {
	sent    bool
	latency time.Duration // from the send to the end of the response body
	lag     time.Duration // from the scheduled send time to the send
	err     error
}

// window is what the measured part of a fixed-rate phase saw.
type window struct {
	samples []sample
	elapsed time.Duration // from the first measured send until the last answer
}

// fixedRate sends at rate per second, open loop: request i is sent at start + i/rate whether
// or not earlier ones have been answered, each on its own goroutine, at most maxInFlight at a
// time (a request that finds no slot is not sent, and counted as dropped). The first warmup's
// worth of requests is not measured; begin runs just before the first measured send and end
// after the last measured answer. The count of requests is fixed up front and every request
// is bounded by requestTimeout, so the phase ends.
func fixedRate(ctx context.Context, do func(context.Context) error, rate float64, warmup, measure time.Duration, maxInFlight int, begin, end func()) (window, error) {
	interval := time.Duration(float64(time.Second) / rate)
	nWarm := int(warmup.Seconds() * rate)
	nMeasure := max(1, int(measure.Seconds()*rate))
	samples := make([]sample, nWarm+nMeasure)
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
			return window{}, ctx.Err()
		}
		if i == nWarm {
			begin()
			measureStart = time.Now()
		}
		select {
		case slots <- struct{}{}:
		default:
			samples[i] = sample{err: errNoSlot}
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			t0 := time.Now()
			err := do(ctx)
			samples[i] = sample{sent: true, latency: time.Since(t0), lag: t0.Sub(at), err: err}
		})
	}
	wg.Wait()
	end()
	return window{samples: samples[nWarm:], elapsed: time.Since(measureStart)}, nil
}

// closedLoop runs conc clients, each sending its next request when the last is answered, for
// d (and at most maxRequests requests in all). It returns the answered and failed counts and
// the time taken.
func closedLoop(ctx context.Context, do func(context.Context) error, conc int, d time.Duration) (ok, failed int64, elapsed time.Duration) {
	var nOK, nFailed, budget atomic.Int64
	budget.Store(maxRequests)
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
