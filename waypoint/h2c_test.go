package waypoint

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/table"
)

// h2cClient speaks HTTP/2 with prior knowledge, as gRPC clients do without TLS.
func h2cClient(t *testing.T) *http.Client {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: p}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: waitTimeout}
}

func TestH2CUpstreamAndGRPCLikeStream(t *testing.T) {
	e := newEnv(t, nil)
	east, west := startHTTPBackend(t, "e1", "127.0.0.111"), startHTTPBackend(t, "w1", "127.0.0.112")
	tests := []struct {
		name        string
		portName    string
		appProtocol string
	}{
		{name: "appProtocol kubernetes.io/h2c", portName: "api", appProtocol: "kubernetes.io/h2c"},
		{name: "port name grpc", portName: "grpc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := int32(freePort(t))
			ep := func(b *httpBackend, loc model.Locality) model.Endpoint {
				ep := b.endpoint(loc)
				ep.Ports[0].Name = tt.portName
				return ep
			}
			e.put(httpService(port, model.ModeAny, tt.portName, tt.appProtocol), endpoints("east", ep(east, sameZone)), endpoints("west", ep(west, otherZone)))
			e.waitRoute("h2c route", port, func(r *table.Route) bool { return r != nil && r.Protocol == table.ProtocolH2C && len(r.Endpoints) == 2 })
			e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })

			// Both an HTTP/1.1 and an h2c client reach the endpoints over HTTP/2.
			for name, c := range map[string]*http.Client{"HTTP/1.1": newClient(t), "h2c": h2cClient(t)} {
				clusters := map[string]int{}
				for range 20 {
					r := get(t.Context(), c, port)
					if r.err != nil || r.code != 200 {
						t.Fatalf("%s client: %+v", name, r)
					}
					if want := map[string]string{"e1": "east", "w1": "west"}[r.backend]; r.cluster != want {
						t.Fatalf("%s client: answered by %s with %s %q, want %q", name, r.backend, HeaderCluster, r.cluster, want)
					}
					clusters[r.cluster]++
				}
				if clusters["east"] == 0 || clusters["west"] == 0 {
					t.Errorf("%s client: clusters %v, want both", name, clusters)
				}
			}
			for _, b := range []*httpBackend{east, west} {
				if p, _ := b.protos.Load().(string); p != "HTTP/2.0" {
					t.Errorf("backend %s last spoke %q, want HTTP/2.0", b.name, p)
				}
			}
			grpcLike(t, h2cClient(t), port)
		})
	}
}

// grpcLike sends a gRPC-shaped request (length-prefixed message, streamed body of unknown
// length, TE: trailers) and checks the echoed message and the grpc-status trailer.
func grpcLike(t *testing.T, c *http.Client, port int32) {
	t.Helper()
	msg := []byte("hello over h2c")
	frame := make([]byte, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:5], uint32(len(msg)))
	copy(frame[5:], msg)
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(frame)
		_ = pw.Close()
	}()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://127.0.0.1:"+itoa(port)+"/echo.Echo/Say", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("gRPC-like request: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(body, frame) {
		t.Fatalf("gRPC-like response body %q (%v), want the frame echoed", body, err)
	}
	if resp.ProtoMajor != 2 || resp.Header.Get(HeaderCluster) == "" || resp.Trailer.Get("Grpc-Status") != "0" {
		t.Fatalf("gRPC-like response: %s, %s %q, trailers %v; want HTTP/2, a cluster, grpc-status 0", resp.Proto, HeaderCluster, resp.Header.Get(HeaderCluster), resp.Trailer)
	}
}
