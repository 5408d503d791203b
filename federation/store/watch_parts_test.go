package store

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

// nextEvents receives batches until one holds events, and returns them.
func nextEvents(t *testing.T, w *Watcher) []Event {
	t.Helper()
	for {
		if b := nextBatch(t, w); len(b.Events) > 0 {
			return b.Events
		}
	}
}

// onlyRecord fails unless events is one put of an endpoints record, and returns it.
func onlyRecord(t *testing.T, events []Event) *EndpointsRecord {
	t.Helper()
	if len(events) != 1 || events[0].Err != nil || events[0].Type != EventPut {
		t.Fatalf("events %v, want one put", renderAll(events))
	}
	r, ok := events[0].Record.(*EndpointsRecord)
	if !ok {
		t.Fatalf("event holds %T, want *EndpointsRecord", events[0].Record)
	}
	return r
}

// TestWatchDeliversRecordsInPartsWhole: a watcher never delivers a chunk; it delivers each
// head as the whole record, on a snapshot, a change, a shrink to one value and a delete.
func TestWatchDeliversRecordsInPartsWhole(t *testing.T) {
	te := startTestEtcd(t)
	wr := te.leader(t, "hub-0")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	big := largeEndpointsRecord("shop", "cart", "east-1", 10000)
	put(t, wr, big)
	w := mustWatch(t, ctx, te.connect(t), NamespacePrefix("shop"), 0)
	b := nextBatch(t, w)
	if !b.Snapshot || !reflect.DeepEqual(onlyRecord(t, b.Events), big) {
		t.Fatalf("snapshot %v does not hold the record whole", renderAll(b.Events))
	}

	big.Endpoints[777].Ready = !big.Endpoints[777].Ready
	put(t, wr, big)
	if got := onlyRecord(t, nextEvents(t, w)); !reflect.DeepEqual(got, big) {
		t.Fatal("changed record differs")
	}
	small := largeEndpointsRecord("shop", "cart", "east-1", 2)
	put(t, wr, small)
	if got := onlyRecord(t, nextEvents(t, w)); !reflect.DeepEqual(got, small) {
		t.Fatal("record shrunk to one value differs")
	}
	put(t, wr, big)
	if got := onlyRecord(t, nextEvents(t, w)); !reflect.DeepEqual(got, big) {
		t.Fatal("record grown again differs")
	}
	del(t, wr, big.Key())
	if got := renderAll(nextEvents(t, w)); len(got) != 1 || got[0] != "del:"+big.Key().String() {
		t.Fatalf("delete delivered %v", got)
	}
}

// TestWatchNeverDeliversHalfAChange: while the writer switches a 20,000-endpoint record between
// two versions that differ in many chunks, every record the watcher delivers is one of the two.
func TestWatchNeverDeliversHalfAChange(t *testing.T) {
	te := startTestEtcd(t)
	wr := te.leader(t, "hub-0")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	a := largeEndpointsRecord("shop", "cart", "east-1", 20000)
	b := largeEndpointsRecord("shop", "cart", "east-1", 20000)
	for i := 0; i < len(b.Endpoints); i += 97 {
		b.Endpoints[i].Ready = !b.Endpoints[i].Ready
	}
	put(t, wr, a)
	w := mustWatch(t, ctx, te.connect(t), NamespacePrefix("shop"), 0)
	const switches = 10
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range switches {
			if _, err := wr.Put(ctx, []*EndpointsRecord{b, a}[i%2]); err != nil {
				t.Errorf("Put: %v", err)
				return
			}
		}
	})
	seen := 0
	for seen <= switches {
		for _, ev := range nextEvents(t, w) {
			r, ok := ev.Record.(*EndpointsRecord)
			if !ok || ev.Err != nil {
				t.Fatalf("event %s: %v", render(ev), ev.Err)
			}
			if !reflect.DeepEqual(r, a) && !reflect.DeepEqual(r, b) {
				t.Fatalf("delivered record %d is neither version", seen)
			}
			seen++
		}
	}
	wg.Wait()
}

// TestWatchResumedJoinsEarlierChunks: a watcher started from a revision learns the chunks
// stored then, so that a later head naming some of them is delivered whole.
func TestWatchResumedJoinsEarlierChunks(t *testing.T) {
	te := startTestEtcd(t)
	wr := te.leader(t, "hub-0")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := largeEndpointsRecord("shop", "cart", "east-1", 10000)
	put(t, wr, r)
	rev := mustRevision(t, wr.client)
	r.Endpoints[5].Ready = !r.Endpoints[5].Ready
	put(t, wr, r)
	w := mustWatch(t, ctx, te.connect(t), NamespacePrefix("shop"), rev)
	b := nextBatch(t, w)
	if b.Snapshot || !reflect.DeepEqual(onlyRecord(t, b.Events), r) {
		t.Fatalf("resumed watch delivered %v (snapshot %v), want the changed record whole", renderAll(b.Events), b.Snapshot)
	}
}

// TestWatchHeadWithMissingChunk: a head naming a chunk the store does not hold (written by
// something else than the writer) is delivered as an error, and as the record once the chunk
// arrives.
func TestWatchHeadWithMissingChunk(t *testing.T) {
	te := startTestEtcd(t)
	c := te.connect(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w := mustWatch(t, ctx, c, NamespacePrefix("shop"), 0)
	nextBatch(t, w)
	head, chunks := goldenV2()
	rawPut(t, c, chunks[0].key.String(), string(readGolden(t, "v2", chunks[0].file)))
	rawPut(t, c, head.key.String(), string(readGolden(t, "v2", head.file)))
	events := nextEvents(t, w)
	if len(events) != 1 || events[0].Err == nil || !errors.Is(events[0].Err, ErrIncompleteRecord) {
		t.Fatalf("events %v, want one incomplete-record error", renderAll(events))
	}
	rawPut(t, c, chunks[1].key.String(), string(readGolden(t, "v2", chunks[1].file)))
	r := onlyRecord(t, nextEvents(t, w))
	if got := r.Model(); !reflect.DeepEqual(&got, head.want) {
		t.Fatalf("record %+v, want %+v", got, head.want)
	}
}

// TestListReportsIncompleteRecord: List reports a head whose chunks are missing, and returns
// the rest.
func TestListReportsIncompleteRecord(t *testing.T) {
	te := startTestEtcd(t)
	c := te.connect(t)
	wr := te.leader(t, "hub-0")
	put(t, wr, serviceRecord("shop", "cart"))
	head, _ := goldenV2()
	rawPut(t, c, head.key.String(), string(readGolden(t, "v2", head.file)))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	l, err := c.List(ctx, NamespacePrefix("shop"))
	if err != nil || len(l.Services()) != 1 || len(l.Endpoints()) != 0 || len(l.Errors) != 1 || !errors.Is(l.Errors[0], ErrIncompleteRecord) {
		t.Fatalf("List = %d services, %d endpoints, errors %v, %v", len(l.Services()), len(l.Endpoints()), l.Errors, err)
	}
}
