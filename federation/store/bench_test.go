package store

import (
	"fmt"
	"testing"
)

// BenchmarkPutEndpoints measures one endpoint change in one cluster: one endpoint's readiness
// flips and that cluster's slice of the service (20 endpoints) is rewritten, one key.
func BenchmarkPutEndpoints(b *testing.B) {
	te := startTestEtcd(b)
	w := te.leader(b, "hub-0")
	ctx := b.Context()
	rec := endpointsRecord("shop", "cart", "east", 20)
	if _, err := w.Put(ctx, rec); err != nil {
		b.Fatal(err)
	}
	before := w.Stats()
	for i := 0; b.Loop(); i++ {
		ep := &rec.Endpoints[i%len(rec.Endpoints)]
		ep.Ready = !ep.Ready
		if written, err := w.Put(ctx, rec); err != nil || !written {
			b.Fatalf("Put = %v, %v", written, err)
		}
	}
	reportWrites(b, before, w.Stats())
}

// BenchmarkSyncOneEndpointChange measures a full Sync of one cluster's endpoints (100 services)
// in which one endpoint changed: one key is written, the 99 others are compared and skipped.
func BenchmarkSyncOneEndpointChange(b *testing.B) {
	te := startTestEtcd(b)
	w := te.leader(b, "hub-0")
	ctx := b.Context()
	desired := make([]Record, 0, 100)
	for i := range 100 {
		desired = append(desired, endpointsRecord("shop", fmt.Sprintf("svc-%03d", i), "east", 5))
	}
	if _, err := w.Sync(ctx, SelectClusterEndpoints("east"), desired); err != nil {
		b.Fatal(err)
	}
	before := w.Stats()
	for i := 0; b.Loop(); i++ {
		ep := &desired[i%len(desired)].(*EndpointsRecord).Endpoints[0]
		ep.Ready = !ep.Ready
		res, err := w.Sync(ctx, SelectClusterEndpoints("east"), desired)
		if err != nil || res.Put != 1 || res.Deleted != 0 {
			b.Fatalf("Sync = %+v, %v; want exactly one put", res, err)
		}
	}
	reportWrites(b, before, w.Stats())
}

func reportWrites(b *testing.B, before, after Stats) {
	n := float64(b.N)
	b.ReportMetric(float64(after.BytesWritten-before.BytesWritten)/n, "bytes-written/op")
	b.ReportMetric(float64(after.KeysPut+after.KeysDeleted-before.KeysPut-before.KeysDeleted)/n, "keys-written/op")
	b.ReportMetric(float64(after.Txns-before.Txns)/n, "txns/op")
}

// BenchmarkDecodeEndpoints decodes an endpoints record of 10 endpoints, the bulk of what a hub
// pass reads (21,000 of them in the scale test).
func BenchmarkDecodeEndpoints(b *testing.B) {
	key, val, err := Encode(endpointsRecord("shop", "web", "east", 10))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(val)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(key, val); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResign measures the handover's first step: a leading writer resigns (the time the
// successor's campaign waits on an embedded store). Each iteration campaigns again untimed.
func BenchmarkResign(b *testing.B) {
	te := startTestEtcd(b)
	w := NewWriter(te.connect(b), WriterOptions{Identity: "hub-0", Logger: testLogger})
	ctx := b.Context()
	for b.Loop() {
		b.StopTimer()
		if err := w.Campaign(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := w.Resign(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
