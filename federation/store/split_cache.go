package store

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"sync"

	"github.com/meshfed/meshfed/federation/model"
)

// splitForm is how a record was split: its chunks in order, and by their first endpoint's
// digest, so that the next split of the record reuses the chunks whose endpoints did not
// change instead of encoding and hashing them again. The hub builds every record afresh each
// pass; for a large service that is mostly unchanged, this saves encoding 12 MB a pass.
type splitForm struct {
	// fps are the digests of the record's endpoints (endpointDigest).
	fps     []uint64
	chunks  []*splitChunk
	byFirst map[uint64][]*splitChunk
	// record is the endpoints record split, and vals what it was stored as.
	record *EndpointsRecord
	vals   []storedValue
	// frozen is the record vals were made from when it is frozen (EndpointsRecord.Freeze,
	// ServiceRecord.Freeze): handed the same record again, the writer takes vals without
	// encoding or digesting it again. A frozen record stored whole has a splitForm of vals and
	// frozen alone, and its one value keeps only its digest (storedValue.frozen).
	frozen Record
	// key is the record's key, which retain matches against a selector.
	key Key
	// used is the splitCache.sync of the last Sync that desired the record.
	used uint64
}

// splitChunk is one chunk of a split: the digests of its endpoints, its value, ID and key, and
// what ended it.
type splitChunk struct {
	fps []uint64
	val []byte
	sum uint64 // digest(val)
	id  string
	key string
	end chunkEnd
}

// chunkEnd says what ended a chunk, and so whether the same endpoints elsewhere end it again.
type chunkEnd int

const (
	// cutByContent: its own endpoints ended it; the same run of endpoints ends it again.
	cutByContent chunkEnd = iota
	// cutAtRecordEnd: the record ended; only a run at the end of a record ends there.
	cutAtRecordEnd
	// cutByNext: the endpoint after it was too large to fit; never reused.
	cutByNext
)

func (f *splitForm) add(c *splitChunk) {
	if f.byFirst == nil {
		f.byFirst = make(map[uint64][]*splitChunk)
	}
	f.chunks = append(f.chunks, c)
	f.byFirst[c.fps[0]] = append(f.byFirst[c.fps[0]], c)
}

// reusable returns a chunk of f that holds exactly the endpoints from fps[i] on up to a cut
// that split would make there again, or nil.
func (f *splitForm) reusable(fps []uint64, i int) *splitChunk {
	if f == nil {
		return nil
	}
	for _, c := range f.byFirst[fps[i]] {
		n := len(c.fps)
		switch {
		case i+n > len(fps) || !slices.Equal(c.fps, fps[i:i+n]):
		case c.end == cutByContent, c.end == cutAtRecordEnd && i+n == len(fps):
			return c
		}
	}
	return nil
}

// patchedDigests returns the digests of r's endpoints when r was made from f's record
// (NewEndpointsRecordAfter): f's digests with those of the endpoints inside the splices
// computed again, after validating r's fields and those endpoints (the others were validated
// with f's record). Otherwise it returns nil, and split digests and validates every endpoint.
func (f *splitForm) patchedDigests(r *EndpointsRecord) ([]uint64, error) {
	if f == nil || r.after == nil || f.record == nil || r.after.prev.Value() != f.record || len(f.fps) != len(f.record.Endpoints) {
		return nil, nil
	}
	if err := r.validateFields(); err != nil {
		return nil, err
	}
	p := &model.EndpointsPatch{Base: nil, Splices: r.after.splices}
	var buf []byte
	var bad error
	fps := model.ApplyPatch(p, f.fps, len(r.Endpoints), func(i int) uint64 {
		if err := validEndpoint(&r.Endpoints[i], r.Cluster); err != nil && bad == nil {
			bad = fmt.Errorf("failed to validate record %s: %w: %w", r.Key(), err, ErrInvalidRecord)
		}
		var fp uint64
		fp, buf = endpointDigest(&r.Endpoints[i], buf)
		return fp
	})
	return fps, bad
}

// splitCache keeps, for a writer, the split form of every endpoints record it split, and the
// digest of every frozen record it stored whole, by key.
type splitCache struct {
	mu sync.Mutex
	m  map[string]*splitForm
	// byKind indexes m's keys, so that retain goes through the records of its selector's kind
	// (and cluster) only.
	byKind kindIndex
	// sync numbers the Syncs (begin), so that retain knows the records the last one desired.
	sync uint64
}

// begin starts a Sync: the records it hands storedForm are those retain keeps.
func (c *splitCache) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sync++
}

// storedForm is storedForm(r), reusing the chunks of the record's previous split.
func (c *splitCache) storedForm(r Record) ([]storedValue, error) {
	_, key := keyOf(r)
	c.mu.Lock()
	prev := c.m[key]
	c.mu.Unlock()
	frozen := frozenOf(r)
	if frozen != nil && prev != nil && prev.frozen == frozen {
		c.mu.Lock()
		prev.used = c.sync
		c.mu.Unlock()
		return prev.vals, nil
	}
	vals, next, err := storedFormAfter(r, prev)
	if err != nil {
		return nil, err
	}
	switch {
	case next != nil:
		// Only endpoints records are split.
		next.record, next.vals, next.frozen = r.(*EndpointsRecord), vals, frozen
	case frozen != nil:
		// Stored whole: kept as its digest, encoded again only when written (storedValue.frozen).
		v := vals[0]
		v.sum, v.summed, v.size = digest(v.val), true, len(v.val)
		v.val, v.frozen = nil, frozen
		vals = []storedValue{v}
		next = &splitForm{vals: vals, frozen: frozen}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if next != nil {
		next.key, next.used = r.Key(), c.sync
	}
	if next != nil {
		c.put(key, next)
	} else {
		c.remove(key)
	}
	return vals, nil
}

// put sets the form of key. c.mu is held.
func (c *splitCache) put(key string, f *splitForm) {
	if c.m == nil {
		c.m, c.byKind = map[string]*splitForm{}, kindIndex{}
	}
	c.m[key] = f
	c.byKind.add(key, f.key)
}

// remove drops the form of key. c.mu is held.
func (c *splitCache) remove(key string) {
	if f, ok := c.m[key]; ok {
		c.byKind.remove(key, f.key)
		delete(c.m, key)
	}
}

// retain drops the records sel selects that the Sync running (begin) did not store.
func (c *splitCache) retain(sel Selector) {
	c.mu.Lock()
	defer c.mu.Unlock()
	drop := func(key string, f *splitForm) {
		if f.used != c.sync && sel.matchesKey(key, f.key) {
			c.remove(key)
		}
	}
	if sel.Kind == 0 {
		for key, f := range c.m {
			drop(key, f)
		}
		return
	}
	c.byKind.each(sel, func(key string) { drop(key, c.m[key]) })
}

// endpointDigest digests every field of an endpoint that its encoding holds, seeded per
// process as the snapshot's digests are: two endpoints with the same digest encode the same
// but by a chance of 2⁻⁶⁴ that no one can steer. Every string is length-prefixed, so no two
// endpoints feed the hash the same bytes.
func endpointDigest(e *StoredEndpoint, buf []byte) (uint64, []byte) {
	buf = buf[:0]
	str := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	l := &e.Locality
	for _, s := range []string{e.Address, e.Hostname, l.Network, l.Region, l.Zone, l.Subzone, l.Node, l.Cluster} {
		str(s)
	}
	flags := byte(0)
	for i, b := range []bool{e.Ready, e.Serving, e.Terminating} {
		if b {
			flags |= 1 << i
		}
	}
	buf = append(buf, flags)
	buf = binary.AppendUvarint(buf, uint64(e.Weight))
	buf = binary.AppendUvarint(buf, uint64(len(e.Ports)))
	for _, p := range e.Ports {
		str(p.Name)
		buf = binary.AppendVarint(buf, int64(p.Port))
	}
	buf = binary.AppendUvarint(buf, uint64(len(e.Labels)))
	if len(e.Labels) > 0 {
		for _, k := range slices.Sorted(maps.Keys(e.Labels)) {
			str(k)
			str(e.Labels[k])
		}
	}
	return maphash.Bytes(valueSeed, buf), buf
}
