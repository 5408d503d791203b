package store

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/federation/model"
)

// TestSyncWritesLargeRecords: one cluster's slice of a 10,000- and of a 50,000-endpoint service
// is written in parts and read back whole by List and Get. Written whole, as the store did
// before, etcd refuses it. Then one endpoint changes: one chunk and the head are written, the
// replaced chunk deleted, nothing else.
func TestSyncWritesLargeRecords(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	var desired []Record // the Sync of one cluster's endpoints keeps the smaller service
	for _, n := range []int{10000, 50000} {
		name := fmt.Sprintf("big-%d", n)
		r := largeEndpointsRecord("shop", name, "east-1", n)
		key, whole, err := Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.client.etcd.Put(ctx, key, string(whole)); err == nil || !tooLarge(err) {
			t.Fatalf("%d endpoints: a whole value of %d bytes: Put = %v, want a refusal for its size", n, len(whole), err)
		}
		before := w.Stats()
		desired = append(desired, r)
		res, err := w.Sync(ctx, SelectClusterEndpoints("east-1"), desired)
		if err != nil || res.Failed != 0 {
			t.Fatalf("%d endpoints: Sync = %+v, %v", n, res, err)
		}
		s := w.Stats()
		t.Logf("%d endpoints: %d keys in %d transactions, %d bytes", n, s.KeysPut-before.KeysPut, s.Txns-before.Txns, s.BytesWritten-before.BytesWritten)
		l, err := w.client.List(ctx, NamespacePrefix("shop"))
		if err != nil || len(l.Errors) != 0 {
			t.Fatalf("List: %v %v", err, l.Errors)
		}
		got := findEndpoints(l.Endpoints(), name)
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("%d endpoints: listed record differs (%d endpoints)", n, len(got.Endpoints))
		}
		e, found, err := w.client.Get(ctx, r.Key())
		if err != nil || !found || !reflect.DeepEqual(e.Record, r) {
			t.Fatalf("%d endpoints: Get = found %v, %v", n, found, err)
		}
	}

	r := largeEndpointsRecord("shop", "big-50000", "east-1", 50000)
	r.Endpoints[31337].Ready = !r.Endpoints[31337].Ready
	before := w.Stats()
	res, err := w.SyncFrom(ctx, nil, SelectServiceEndpoints("shop", r.Domain, r.Name), []Record{r})
	if err != nil {
		t.Fatal(err)
	}
	s := w.Stats()
	if res.Put != 2 || res.Deleted != 1 || s.Txns-before.Txns != 1 {
		t.Fatalf("one endpoint changed: %+v in %d transactions, want 2 puts (chunk, head) and 1 delete in 1", res, s.Txns-before.Txns)
	}
	if written := s.BytesWritten - before.BytesWritten; written > chunkMaxBytes+8<<10 {
		t.Fatalf("one endpoint changed: %d bytes written", written)
	}
	t.Logf("one endpoint changed in 50,000: %d bytes written", s.BytesWritten-before.BytesWritten)
}

func findEndpoints(rs []*EndpointsRecord, name string) *EndpointsRecord {
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// TestSyncFailsOnlyTheRecordTooLarge: a service record too large for any value fails alone;
// the other records are written and what the store held for the failed one stays.
func TestSyncFailsOnlyTheRecordTooLarge(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	put(t, w, serviceRecord("shop", "huge"))
	old := modRevisions(t, w.client, ServiceKey("shop", "mesh.internal", "huge"))
	huge := serviceRecord("shop", "huge").Model()
	huge.Conflicts = []model.Conflict{{Reason: model.ReasonPortConflict, Message: strings.Repeat("x", maxValueBytes)}}
	desired := []Record{serviceRecord("shop", "a"), NewServiceRecord(&huge), serviceRecord("shop", "b")}
	res, err := w.Sync(ctx, SelectServices("shop"), desired)
	var nw *NotWrittenError
	if !errors.As(err, &nw) || len(nw.Records) != 1 || nw.Records[0].Key != ServiceKey("shop", "mesh.internal", "huge") || !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("Sync = %+v, %v; want a NotWrittenError for %s", res, err, ServiceKey("shop", "mesh.internal", "huge"))
	}
	if res.Put != 2 || res.Failed != 1 || res.Deleted != 0 {
		t.Fatalf("Sync = %+v, want 2 puts and 1 failure", res)
	}
	for k, rev := range modRevisions(t, w.client, ServiceKey("shop", "mesh.internal", "huge")) {
		if rev != old[k] {
			t.Fatalf("the failed record's stored value changed (mod revision %d -> %d)", old[k], rev)
		}
	}
}

// TestSyncBoundsTransactionsByBytes: 40 records of 60 KB are fewer than maxOpsPerTxn keys but
// too many bytes for one transaction.
func TestSyncBoundsTransactionsByBytes(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	var desired []Record
	for i := range 40 {
		desired = append(desired, largeEndpointsRecord("shop", fmt.Sprintf("svc-%02d", i), "east-1", 250))
	}
	before := w.Stats()
	res, err := w.Sync(t.Context(), SelectClusterEndpoints("east-1"), desired)
	if err != nil || res.Put != 40 {
		t.Fatalf("Sync = %+v, %v", res, err)
	}
	s := w.Stats()
	bytes := s.BytesWritten - before.BytesWritten
	if txns := s.Txns - before.Txns; txns < bytes/maxTxnBytes+1 {
		t.Fatalf("%d bytes in %d transactions", bytes, txns)
	}
}

// TestPutAndDeleteLargeRecord: Put writes a record in parts as Sync does, writes nothing when
// it is unchanged, and a smaller Put or a Delete removes the parts.
func TestPutAndDeleteLargeRecord(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	ctx := t.Context()
	r := largeEndpointsRecord("shop", "cart", "east-1", 10000)
	if written, err := w.Put(ctx, r); err != nil || !written {
		t.Fatalf("Put = %v, %v", written, err)
	}
	if written, err := w.Put(ctx, r); err != nil || written {
		t.Fatalf("second Put = %v, %v; want nothing written", written, err)
	}
	e, _, err := w.client.Get(ctx, r.Key())
	if err != nil || !reflect.DeepEqual(e.Record, r) {
		t.Fatalf("Get after Put: %v", err)
	}
	if _, _, err := w.client.Get(ctx, EndpointsChunkKey("shop", r.Domain, "cart", "east-1", "0123456789abcdef")); !errors.Is(err, ErrMalformedKey) {
		t.Fatalf("Get of a chunk key: %v, want ErrMalformedKey", err)
	}
	small := largeEndpointsRecord("shop", "cart", "east-1", 3)
	if written, err := w.Put(ctx, small); err != nil || !written {
		t.Fatalf("smaller Put = %v, %v", written, err)
	}
	if n := countKeys(t, w.client, r.Key().String()+"/"); n != 0 {
		t.Fatalf("%d parts left after a whole Put", n)
	}
	put(t, w, r)
	if deleted, err := w.Delete(ctx, r.Key()); err != nil || !deleted {
		t.Fatalf("Delete = %v, %v", deleted, err)
	}
	if n := countKeys(t, w.client, r.Key().String()); n != 0 {
		t.Fatalf("%d keys left after Delete", n)
	}
}

func countKeys(t *testing.T, c *Client, prefix string) int {
	t.Helper()
	kvs, _, err := c.listRaw(t.Context(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	return len(kvs)
}

// TestListReusesDecodedChunks: a second listing takes the chunks the first decoded; a chunk
// rewritten under its key (by something else than the writer) is decoded again, and refused.
func TestListReusesDecodedChunks(t *testing.T) {
	te := startTestEtcd(t)
	w := te.leader(t, "hub-0")
	c := te.connect(t)
	r := largeEndpointsRecord("shop", "cart", "east-1", 2000)
	put(t, w, r)
	first, err := c.List(t.Context(), NamespacePrefix("shop"))
	if err != nil || len(first.Endpoints()) != 1 {
		t.Fatalf("List: %v", err)
	}
	if len(c.chunks.m) < 2 {
		t.Fatalf("%d chunks cached after a listing", len(c.chunks.m))
	}
	cached := map[string]*EndpointsChunk{}
	for k, e := range c.chunks.m {
		cached[k] = e.chunk
	}
	second, err := c.List(t.Context(), NamespacePrefix("shop"))
	if err != nil || !reflect.DeepEqual(second.Endpoints(), first.Endpoints()) {
		t.Fatalf("second List differs: %v", err)
	}
	for k, e := range c.chunks.m {
		if cached[k] != e.chunk {
			t.Fatalf("chunk %s decoded again", k)
		}
	}
	var victim string
	for k := range cached {
		victim = k
		break
	}
	kvs, _, err := c.listRaw(t.Context(), victim)
	if err != nil || len(kvs) != 1 {
		t.Fatal(err)
	}
	rawPut(t, c, victim, strings.Replace(string(kvs[0].Value), `"ready":true`, `"ready":false`, 1))
	third, err := c.List(t.Context(), NamespacePrefix("shop"))
	if err != nil || len(third.Endpoints()) != 0 || len(third.Errors) != 2 {
		t.Fatalf("after a chunk was tampered with: %d records, errors %v, %v; want the chunk and its record reported", len(third.Endpoints()), third.Errors, err)
	}
}
