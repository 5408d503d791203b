package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/meshfed/meshfed/federation/model"
)

func TestStoredFormKeepsSmallRecordsWhole(t *testing.T) {
	for _, r := range []Record{endpointsRecord("shop", "cart", "east", 200), serviceRecord("shop", "cart"), clusterRecord("east"), waypointsRecord("shop", "east")} {
		vals, err := storedForm(r)
		if err != nil {
			t.Fatal(err)
		}
		key, val, err := Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(vals) != 1 || vals[0].key != key || !bytes.Equal(vals[0].val, val) || vals[0].owner != key || vals[0].part {
			t.Fatalf("stored form of %s is %d values, want its one encoding", key, len(vals))
		}
	}
}

// splitRecord splits r and returns its head, its chunks by key, and the values by key.
func splitRecord(t *testing.T, r *EndpointsRecord) (*EndpointsHead, map[string]*EndpointsChunk, map[string][]byte) {
	t.Helper()
	vals, err := storedForm(r)
	if err != nil {
		t.Fatalf("storedForm: %v", err)
	}
	if len(vals) < 2 {
		t.Fatalf("a record of %d endpoints was not split", len(r.Endpoints))
	}
	chunks, raw := map[string]*EndpointsChunk{}, map[string][]byte{}
	var head *EndpointsHead
	for i, v := range vals {
		raw[v.key] = v.val
		dec, err := Decode(v.key, v.val)
		if err != nil {
			t.Fatalf("value %d (%s) does not decode: %v", i, v.key, err)
		}
		_, again, err := Encode(dec)
		if err != nil || !bytes.Equal(again, v.val) {
			t.Fatalf("value %d (%s) re-encodes differently (%v):\n got %.200s\nwant %.200s", i, v.key, err, again, v.val)
		}
		if v.owner != r.Key().String() {
			t.Fatalf("value %s owned by %s", v.key, v.owner)
		}
		switch d := dec.(type) {
		case *EndpointsChunk:
			if i == len(vals)-1 || !v.part {
				t.Fatalf("chunk %s is not before the head or not marked as a part", v.key)
			}
			checkChunkSize(t, d, v.val)
			chunks[v.key] = d
		case *EndpointsHead:
			if i != len(vals)-1 || v.part {
				t.Fatalf("head at %d of %d values", i, len(vals))
			}
			head = d
		default:
			t.Fatalf("value %s decodes to %T", v.key, dec)
		}
	}
	return head, chunks, raw
}

// TestSplitJoinsBack: a large record splits into chunks, each encoded exactly as Encode encodes
// it, well below the value limit, that join back into the record.
func TestSplitJoinsBack(t *testing.T) {
	for _, n := range []int{300, 10000, 50000} {
		r := largeEndpointsRecord("shop", "cart", "east-1", n)
		head, chunks, raw := splitRecord(t, r)
		p := newParts()
		p.chunks = chunks
		got, err := p.join(head)
		if err != nil {
			t.Fatalf("%d endpoints: join: %v", n, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("%d endpoints: joined record differs", n)
		}
		total := 0
		for _, v := range raw {
			total += len(v)
		}
		t.Logf("%d endpoints: %d chunks, head %d bytes, %d bytes in all (%.0f an endpoint)", n, len(head.Chunks), len(raw[head.Key().String()]), total, float64(total)/float64(n))
	}
}

// TestSplitChangeTouchesOneChunk: a readiness flip rewrites one chunk and the head; an
// endpoint added or removed rewrites at most two chunks, wherever it is.
func TestSplitChangeTouchesOneChunk(t *testing.T) {
	r := largeEndpointsRecord("shop", "cart", "east-1", 10000)
	_, _, before := splitRecord(t, r)
	changed := func(name string, r *EndpointsRecord, most int) {
		_, _, after := splitRecord(t, r)
		var added, removed int
		for k := range after {
			if pk, _ := ParseKey(k); before[k] == nil && pk.Kind == KindEndpointsChunk {
				added++
			}
		}
		for k := range before {
			if _, ok := after[k]; !ok {
				removed++
			}
		}
		if added == 0 || added > most || removed > most {
			t.Errorf("%s: %d chunks added, %d removed; want 1 to %d", name, added, removed, most)
		}
	}
	flip := largeEndpointsRecord("shop", "cart", "east-1", 10000)
	flip.Endpoints[4321].Ready = !flip.Endpoints[4321].Ready
	changed("readiness flip", flip, 1)
	for _, i := range []int{0, 5000, 9999} {
		gone := largeEndpointsRecord("shop", "cart", "east-1", 10000)
		gone.Endpoints = append(gone.Endpoints[:i:i], gone.Endpoints[i+1:]...)
		changed("endpoint removed", gone, 2)
	}
	added := largeEndpointsRecord("shop", "cart", "east-1", 10000)
	extra := added.Endpoints[100]
	extra.Address = "10.100.0.1"
	added.Endpoints = append(added.Endpoints[:1:1], append([]StoredEndpoint{extra}, added.Endpoints[1:]...)...)
	changed("endpoint added", added, 2)
}

func TestStoredFormTooLarge(t *testing.T) {
	huge := strings.Repeat("x", maxValueBytes)
	svc := serviceRecord("shop", "cart").Model()
	svc.Conflicts = []model.Conflict{{Reason: model.ReasonPortConflict, Message: huge}}
	eps := largeEndpointsRecord("shop", "cart", "east-1", 1000)
	eps.Endpoints[10].Labels = map[string]string{"big": huge}
	for _, r := range []Record{NewServiceRecord(&svc), eps} {
		if _, err := storedForm(r); !errors.Is(err, ErrRecordTooLarge) {
			t.Errorf("storedForm(%s) = %v, want ErrRecordTooLarge", r.Key(), err)
		}
	}
}

// FuzzSplitJoins: whatever the endpoints, split cuts them into chunks that Decode accepts and
// that join back into the record; every chunk but one holding a single endpoint stays under
// chunkMaxBytes.
func FuzzSplitJoins(f *testing.F) {
	f.Add(uint16(1), uint16(0), "")
	f.Add(uint16(3000), uint16(7), "rack")
	f.Add(uint16(500), uint16(2000), "zone-a")
	f.Fuzz(func(t *testing.T, n, labelLen uint16, label string) {
		if !utf8.ValidString(label) {
			return // JSON stores invalid UTF-8 as U+FFFD, split or not; label values are ASCII
		}
		r := largeEndpointsRecord("shop", "cart", "east-1", int(n%4000)+1)
		for i := range r.Endpoints {
			if labelLen > 0 && i%int(labelLen) == 0 {
				r.Endpoints[i].Labels = map[string]string{"k": strings.Repeat(label, int(labelLen)%64)}
			}
		}
		vals, _, err := split(r, nil, nil)
		if err != nil {
			t.Fatalf("split: %v", err)
		}
		p := newParts()
		var head *EndpointsHead
		for _, v := range vals {
			dec, err := Decode(v.key, v.val)
			if err != nil {
				t.Fatalf("Decode(%s): %v", v.key, err)
			}
			switch d := dec.(type) {
			case *EndpointsChunk:
				checkChunkSize(t, d, v.val)
				p.chunks[v.key] = d
			case *EndpointsHead:
				head = d
			}
		}
		got, err := p.join(head)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("join: %v", err)
		}
	})
}

// TestSplitCacheFollowsChanges: the writer's cache of split records gives back the stored form
// of an identical record, and a fresh one for any change, even one made in place.
func TestSplitCacheFollowsChanges(t *testing.T) {
	var c splitCache
	r := largeEndpointsRecord("shop", "cart", "east-1", 5000)
	first, err := c.storedForm(r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.storedForm(largeEndpointsRecord("shop", "cart", "east-1", 5000))
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Fatalf("an identical record was split differently (%v)", err)
	}
	for i := range again[:len(again)-1] {
		if &again[i].val[0] != &first[i].val[0] {
			t.Fatalf("chunk %d of an identical record was encoded again", i)
		}
	}
	changes := []func(*EndpointsRecord){
		func(r *EndpointsRecord) { r.Endpoints[42].Ready = !r.Endpoints[42].Ready },
		func(r *EndpointsRecord) { r.Endpoints[42].Labels = map[string]string{"rack": "r1"} },
		func(r *EndpointsRecord) { r.Endpoints[42].Ports[0].Port = 9090 },
		func(r *EndpointsRecord) { r.Endpoints[42].Locality.Subzone = "s1" },
		func(r *EndpointsRecord) { r.Stale = true },
		func(r *EndpointsRecord) { r.Endpoints = r.Endpoints[:4999] },
		func(r *EndpointsRecord) { r.Endpoints = r.Endpoints[1:] },
		func(r *EndpointsRecord) { r.Endpoints = append(r.Endpoints[:10:10], r.Endpoints[11:]...) },
		func(r *EndpointsRecord) {
			r.Endpoints[1000].Labels = map[string]string{"big": strings.Repeat("y", maxValueBytes/2)}
		},
		func(r *EndpointsRecord) {
			r.Endpoints[1001].Labels = map[string]string{"big": strings.Repeat("z", maxValueBytes/2)}
		},
	}
	for i, change := range changes {
		change(r)
		got, err := c.storedForm(r)
		if err != nil {
			t.Fatal(err)
		}
		want, err := storedForm(r)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("change %d: the cache gave back a stored form that a fresh split does not make (%v)", i, err)
		}
	}
}

// FuzzSplitReuse: however a record changes, splitting it after its previous version gives
// exactly the fresh split.
func FuzzSplitReuse(f *testing.F) {
	f.Add(uint16(3000), uint16(10), uint16(5), uint16(1))
	f.Add(uint16(1500), uint16(0), uint16(1499), uint16(300))
	f.Fuzz(func(t *testing.T, n, at, count, flip uint16) {
		var c splitCache
		r := largeEndpointsRecord("shop", "cart", "east-1", int(n%4000)+1)
		if _, err := c.storedForm(r); err != nil {
			t.Fatal(err)
		}
		from := min(int(at), len(r.Endpoints))
		to := min(from+int(count%64), len(r.Endpoints))
		r.Endpoints = append(r.Endpoints[:from:from], r.Endpoints[to:]...)
		if len(r.Endpoints) > 0 {
			e := &r.Endpoints[int(flip)%len(r.Endpoints)]
			e.Ready = !e.Ready
		}
		got, err := c.storedForm(r)
		if err != nil {
			t.Fatal(err)
		}
		want, err := storedForm(r)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("split after the previous version differs from a fresh split (%v)", err)
		}
	})
}

// checkChunkSize fails unless the chunk stored as val passes chunkMaxBytes by its last
// endpoint at most.
func checkChunkSize(t *testing.T, c *EndpointsChunk, val []byte) {
	t.Helper()
	last, err := json.Marshal(&c.Endpoints[len(c.Endpoints)-1])
	if err != nil {
		t.Fatal(err)
	}
	if len(val)-len(last)-1 >= chunkMaxBytes || len(val) > maxValueBytes {
		t.Fatalf("chunk of %d endpoints is %d bytes, its last endpoint %d", len(c.Endpoints), len(val), len(last))
	}
}

// BenchmarkSplitUnchanged splits a 50,000-endpoint record after an identical one, as the hub
// does every pass for a large service that did not change.
func BenchmarkSplitUnchanged(b *testing.B) {
	var c splitCache
	r := largeEndpointsRecord("shop", "cart", "east-1", 50000)
	if _, err := c.storedForm(r); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.storedForm(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplitOneChange splits a 50,000-endpoint record after one with one endpoint's
// readiness flipped: one chunk is encoded again.
func BenchmarkSplitOneChange(b *testing.B) {
	var c splitCache
	r := largeEndpointsRecord("shop", "cart", "east-1", 50000)
	for i := 0; b.Loop(); i++ {
		e := &r.Endpoints[i*7919%len(r.Endpoints)]
		e.Ready = !e.Ready
		if _, err := c.storedForm(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplitFresh splits a 50,000-endpoint record with nothing to reuse.
func BenchmarkSplitFresh(b *testing.B) {
	r := largeEndpointsRecord("shop", "cart", "east-1", 50000)
	for b.Loop() {
		if _, err := storedForm(r); err != nil {
			b.Fatal(err)
		}
	}
}
