package waypoint

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/meshfed/meshfed/waypoint/balance"
	"github.com/meshfed/meshfed/waypoint/http1"
	"github.com/meshfed/meshfed/waypoint/internal/coarse"
	"github.com/meshfed/meshfed/waypoint/table"
)

// errTryTimeout is the cause of a try cut short by the per-try timeout.
var errTryTimeout = errors.New("per-try timeout")

// balancer is the RoundTripper of per-request routes: each request goes to an endpoint
// picked by the route's plan (least request by requests in flight), and a failed try is
// retried on another endpoint, as far as the request allows (retryable).
type balancer struct{ o *Outbound }

// RoundTrip implements http.RoundTripper for requests carrying an exchange.
func (b balancer) RoundTrip(req *http.Request) (*http.Response, error) {
	ex, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if ex == nil {
		return nil, fmt.Errorf("failed to route request %s: %w", req.URL, ErrNoEndpoint)
	}
	return b.o.roundTrip(req, ex)
}

// roundTrip sends req, the request of exchange ex, to an endpoint picked by the route's plan,
// and retries a failed try on another endpoint as far as the request allows.
func (o *Outbound) roundTrip(req *http.Request, ex *exchange) (*http.Response, error) {
	body, err := http1.NewReplayBody(req)
	if err != nil {
		return nil, err
	}
	var tried []*balance.Host
	var last *http.Response // the last gateway-error response, buffered, returned if nothing better comes
	lastErr := error(ErrNoEndpoint)
	for try := 0; try <= o.opts.Retries; try++ {
		r := o.table.View().Route(ex.port)
		if r == nil {
			break
		}
		if ex.route == nil {
			ex.route = r
		}
		h, ok := o.picker.PickFor(r, tried, requestLoad{r})
		if !ok || (len(tried) > 0 && h == tried[len(tried)-1]) {
			break // never the same endpoint twice in a row
		}
		tried = append(tried, h)
		if try > 0 {
			o.metrics.retry(r)
		}
		resp, err := o.try(req, r, h, body)
		if err == nil && (balance.OutcomeOf(resp.StatusCode) != balance.OutcomeGateway || try == o.opts.Retries || !retryable(req, body, nil)) {
			return o.answered(ex, h, resp), nil
		}
		if err == nil {
			buffered, ok := http1.BufferResponse(resp)
			if !ok {
				return o.answered(ex, h, resp), nil // too large to hold while retrying
			}
			last, lastErr = o.answered(ex, h, buffered), nil
			continue
		}
		if req.Context().Err() != nil {
			return nil, err // the client has gone
		}
		lastErr = err
		if !retryable(req, body, err) {
			break
		}
	}
	if last != nil {
		return last, nil
	}
	return nil, fmt.Errorf("failed to proxy request to port %d after %d tries: %w", ex.port, len(tried), lastErr)
}

// answered marks resp as served by h's cluster.
func (o *Outbound) answered(ex *exchange, h *balance.Host, resp *http.Response) *http.Response {
	ex.cluster = h.Cluster()
	resp.Header.Set(HeaderCluster, h.Cluster())
	return resp
}

// try sends one try of req to h, bounded by the per-try timeout until the response headers
// arrive, and records its outcome for outlier detection. The request counts in h.Requests
// until the response body is closed (or the try fails).
func (o *Outbound) try(req *http.Request, r *table.Route, h *balance.Host, body *http1.ReplayBody) (*http.Response, error) {
	t := &tryCall{h: h}
	t.ctx.Init(req.Context(), tryRouteKey{}, r)
	timed := o.opts.PerTryTimeout > 0
	if timed {
		o.timers.Start(&t.timer, o.opts.PerTryTimeout, t)
	}
	// A shallow copy: nothing below writes to the request's header, which every try shares
	// (req.Clone would copy it for each). WithContext inlined, its own copy does not escape.
	t.out = *req.WithContext(&t.ctx)
	t.url = *req.URL
	t.url.Host = h.Addr()
	t.out.URL = &t.url
	t.out.Body, t.out.GetBody = body.Open()
	h.Requests.Add(1)
	resp, err := o.upstreams.transport(r, h).RoundTrip(&t.out)
	if timed && !t.timer.Stop() && err == nil {
		_ = resp.Body.Close() // the timeout won the race with the headers
		err = errTryTimeout
	}
	if err != nil {
		h.Requests.Add(-1)
		t.ctx.Cancel(nil)
		if errors.Is(t.ctx.Cause(), errTryTimeout) {
			err = fmt.Errorf("failed to get a response from endpoint %s within %s: %w", h.Addr(), o.opts.PerTryTimeout, errTryTimeout)
		}
		var ce *connectError
		if !errors.As(err, &ce) && req.Context().Err() == nil {
			o.record(r, h, balance.OutcomeGateway) // reset or timeout after the connection was made
		}
		return nil, err
	}
	o.record(r, h, balance.OutcomeOf(resp.StatusCode))
	if _, ok := resp.Body.(io.ReadWriteCloser); ok {
		resp.Body = http1.NewTryBody(resp.Body, t.end) // a 101's connection, which stays writable
	} else {
		t.body, resp.Body = resp.Body, t
	}
	return resp, nil
}

// tryCall is one try of a request: its context (canceled by the per-try timeout, when the
// response body is closed, or with the request's, and carrying the route for the dial), the
// timer of its timeout, the request it sends with its URL, and the response body, which ends
// the try when closed. One allocation per try, where a standard context with its value and
// its watch by the connection, the timer and its function, the request, the URL and the body's
// wrapper took about fifteen.
type tryCall struct {
	ctx   http1.Context
	timer coarse.Timer
	out   http.Request
	url   url.URL
	h     *balance.Host
	body  io.ReadCloser
	ended atomic.Bool
}

// Fire is the per-try timeout.
func (t *tryCall) Fire() { t.ctx.Cancel(errTryTimeout) }

func (t *tryCall) Read(p []byte) (int, error) { return t.body.Read(p) }

// Close closes the response body and ends the try.
func (t *tryCall) Close() error {
	err := t.body.Close()
	t.end()
	return err
}

// end ends the try, once: the host has one request less in flight, and the context is done.
func (t *tryCall) end() {
	if t.ended.CompareAndSwap(false, true) {
		t.h.Requests.Add(-1)
		t.ctx.Cancel(nil)
	}
}

// record feeds one try's outcome to outlier detection, rebuilding the snapshot on ejection.
func (o *Outbound) record(r *table.Route, h *balance.Host, oc balance.Outcome) {
	if !r.Pool().Response(h, oc, o.table.Clock().Now()) {
		return
	}
	o.log.Warn("ejected endpoint after consecutive error responses", "service", r.Service(), "port", r.Port, "endpoint", h.Addr(), "cluster", h.Cluster())
	o.table.RefreshRoute(r)
}

// retryable reports whether a try that failed with err, or (err nil) answered with a gateway
// error, may be tried again on another endpoint:
//
//	connect failure (or refused tunnel)     any method, if the body can be sent again
//	reset before any response byte          any method, if the body was buffered or empty
//	per-try timeout                         idempotent methods, body buffered or empty
//	502, 503, 504                           idempotent methods, body buffered or empty
func retryable(req *http.Request, body *http1.ReplayBody, err error) bool {
	var ce *connectError
	switch {
	case errors.As(err, &ce):
		return body.Resendable()
	case errors.Is(err, errTryTimeout), err == nil:
		return http1.Idempotent(req) && body.Replayable()
	default:
		return body.Replayable()
	}
}

// requestLoad is a route's priority.InFlight counting requests rather than connections.
type requestLoad struct{ r *table.Route }

func (l requestLoad) InFlight(i int) int64 { return l.r.Host(i).Requests.Load() }
