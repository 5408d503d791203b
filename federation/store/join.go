package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// ErrIncompleteRecord is wrapped by a DecodeError for an endpoints head naming a chunk that is
// not in the store, or whose chunks do not hold the count it says. The writer stores chunks
// before the head that names them and deletes them only after no head does, so a reader sees
// this only when the store was changed by something else.
var ErrIncompleteRecord = errors.New("endpoints record incomplete")

// parts is what a reader holds of endpoints records stored in parts: every chunk it has seen,
// by key, and the heads still waiting for a chunk, by endpoints key. It is not safe for
// concurrent use.
type parts struct {
	chunks  map[string]*EndpointsChunk
	pending map[string]*EndpointsHead
}

func newParts() *parts {
	return &parts{chunks: make(map[string]*EndpointsChunk), pending: make(map[string]*EndpointsHead)}
}

// join returns the EndpointsRecord h stands for, its endpoints those of its chunks in order
// (copied: chunks are shared between successive heads). It fails with ErrIncompleteRecord.
func (p *parts) join(h *EndpointsHead) (*EndpointsRecord, error) {
	cs, n, err := p.chunksOf(h)
	if err != nil {
		return nil, err
	}
	r := &EndpointsRecord{
		Namespace: h.Namespace, Domain: h.Domain, Name: h.Name, Cluster: h.Cluster,
		Scope: h.Scope, Stale: h.Stale, Endpoints: make([]StoredEndpoint, 0, n),
	}
	for _, c := range cs {
		r.Endpoints = append(r.Endpoints, c.Endpoints...)
	}
	return r, nil
}

// check fails as join would, without joining.
func (p *parts) check(h *EndpointsHead) error {
	_, _, err := p.chunksOf(h)
	return err
}

// chunksOf returns the chunks h names, in order, and how many endpoints they hold; it fails
// with ErrIncompleteRecord when one is missing or they do not hold h's count.
func (p *parts) chunksOf(h *EndpointsHead) ([]*EndpointsChunk, int, error) {
	cs := make([]*EndpointsChunk, len(h.Chunks))
	n := 0
	for i, id := range h.Chunks {
		c := p.chunks[EndpointsChunkKey(h.Namespace, h.Domain, h.Name, h.Cluster, id).String()]
		if c == nil {
			return nil, 0, fmt.Errorf("chunk %s of %d is missing: %w", id, len(h.Chunks), ErrIncompleteRecord)
		}
		cs[i] = c
		n += len(c.Endpoints)
	}
	if n != h.Count {
		return nil, 0, fmt.Errorf("chunks hold %d endpoints, the head says %d: %w", n, h.Count, ErrIncompleteRecord)
	}
	return cs, n, nil
}

// apply turns events as decoded from etcd into events of whole records: a chunk's events are
// kept here and not delivered, a head's put is delivered as the EndpointsRecord it stands
// for, once all its chunks are there. A head whose chunks are missing is delivered as an
// error (the consumer drops what it held for the key) and delivered again as a record when
// the last of them arrives.
func (p *parts) apply(in []Event) []Event {
	out := in[:0:0]
	for i := range in {
		ev := in[i]
		switch ev.Key.Kind {
		case KindEndpointsChunk:
			if e, ok := p.applyChunk(&ev); ok {
				out = append(out, e)
			}
			continue
		case KindEndpoints:
			delete(p.pending, ev.Key.String())
			if h, ok := ev.Record.(*EndpointsHead); ok {
				ev = p.joinEvent(h, ev)
			}
		default:
		}
		out = append(out, ev)
	}
	return out
}

// applyChunk records a chunk put or delete. It returns the event to deliver, if any: a head
// the chunk completes, or the chunk's own decode error.
func (p *parts) applyChunk(ev *Event) (Event, bool) {
	key := ev.Key.String()
	if ev.Type == EventDelete || ev.Err != nil {
		delete(p.chunks, key)
		return *ev, ev.Err != nil
	}
	c, ok := ev.Record.(*EndpointsChunk)
	if !ok {
		return Event{}, false
	}
	p.chunks[key] = c
	h := p.pending[ev.Key.Endpoints().String()]
	if h == nil {
		return Event{}, false
	}
	joined := p.joinEvent(h, Event{Type: EventPut, Key: h.Key(), Revision: ev.Revision})
	if joined.Err != nil {
		return Event{}, false // still waiting
	}
	delete(p.pending, h.Key().String())
	return joined, true
}

// joinEvent is the event of head h's put: the joined record, or an error that leaves h
// pending.
func (p *parts) joinEvent(h *EndpointsHead, ev Event) Event {
	r, err := p.join(h)
	if err != nil {
		p.pending[h.Key().String()] = h
		return Event{Type: EventPut, Key: ev.Key, Revision: ev.Revision, Err: &DecodeError{Key: ev.Key.String(), Err: err}}
	}
	ev.Record = r
	return ev
}

// joinEntries turns a listing's entries into whole records: chunks are left out, heads become
// the records they stand for, and heads that cannot be joined become DecodeErrors.
func joinEntries(entries []Entry) (out []Entry, errs []*DecodeError) {
	out, _, errs = resolveHeads(entries, func(p *parts, h *EndpointsHead) (Record, error) { return p.join(h) })
	return out, errs
}

// checkEntries is joinEntries without the joining: each head whose chunks are all there and
// hold its count stays in out as the head, and split joins it on demand (from cache). A
// hub's pass reads the whole store but needs a split record's endpoints only to carry over
// an unsynced member's, so a pass after one endpoint of a 50,000-endpoint record changed
// copies none of them. Heads that cannot be joined are errs, as in joinEntries.
func checkEntries(entries []Entry, cache *joinedCache) (out []Entry, split *splitJoin, errs []*DecodeError) {
	out, p, errs := resolveHeads(entries, func(p *parts, h *EndpointsHead) (Record, error) { return h, p.check(h) })
	return out, &splitJoin{parts: p, cache: cache}, errs
}

// resolveHeads drops the chunks from entries and replaces each head by what resolve makes of
// it with the chunks of entries, which it returns; a head resolve fails is an error instead.
func resolveHeads(entries []Entry, resolve func(*parts, *EndpointsHead) (Record, error)) (out []Entry, p *parts, errs []*DecodeError) {
	p = newParts()
	heads := 0
	for _, e := range entries {
		switch r := e.Record.(type) {
		case *EndpointsChunk:
			p.chunks[e.Key.String()] = r
		case *EndpointsHead:
			heads++
		}
	}
	if heads == 0 && len(p.chunks) == 0 {
		return entries, p, nil
	}
	out = entries[:0:0]
	for _, e := range entries {
		switch h := e.Record.(type) {
		case *EndpointsChunk:
			continue
		case *EndpointsHead:
			r, err := resolve(p, h)
			if err != nil {
				errs = append(errs, &DecodeError{Key: e.Key.String(), Err: err})
				continue
			}
			e.Record = r
		}
		out = append(out, e)
	}
	return out, p, errs
}

// splitJoin joins the heads a ListBaseline listing holds, with the chunks it read, through
// the client's cache of joined records. It is safe for concurrent use.
type splitJoin struct {
	parts *parts
	cache *joinedCache
}

// record is the record h (read at modRev) stands for; nil when s is nil or h cannot be joined
// (checkEntries reported it already).
func (s *splitJoin) record(h *EndpointsHead, modRev int64) *EndpointsRecord {
	if s == nil {
		return nil
	}
	r, err := s.cache.join(s.parts, h, modRev)
	if err != nil {
		return nil
	}
	return r
}

// joinedCache keeps the records a client's listings joined from heads, by key, with the head's
// mod revision. A head at the same mod revision names the same chunks, and a chunk's key names
// its value, so the record joined again would be the same as long as its chunks are all there:
// a pass of the hub then checks the 440 chunk keys of a 50,000-endpoint record instead of
// copying its endpoints. The records are shared between listings.
type joinedCache struct {
	mu sync.Mutex
	m  map[string]joinedRecord
}

type joinedRecord struct {
	modRev int64
	r      *EndpointsRecord
}

// join is p.join(h) for the head read at mod revision modRev, from the cache when it holds the
// record for that revision and p holds all of its chunks. A nil cache joins.
func (c *joinedCache) join(p *parts, h *EndpointsHead, modRev int64) (*EndpointsRecord, error) {
	if c == nil {
		return p.join(h)
	}
	key := h.Key().String()
	c.mu.Lock()
	j, ok := c.m[key]
	c.mu.Unlock()
	if ok && j.modRev == modRev && p.holdsAll(h) {
		return j.r, nil
	}
	r, err := p.join(h)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]joinedRecord{}
	}
	c.m[key] = joinedRecord{modRev: modRev, r: r}
	return r, nil
}

// retain drops the records under prefix whose keys are not in seen.
func (c *joinedCache) retain(prefix string, seen map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if strings.HasPrefix(k, prefix) && !seen[k] {
			delete(c.m, k)
		}
	}
}

// holdsAll reports whether p has every chunk h names.
func (p *parts) holdsAll(h *EndpointsHead) bool {
	for _, id := range h.Chunks {
		if p.chunks[EndpointsChunkKey(h.Namespace, h.Domain, h.Name, h.Cluster, id).String()] == nil {
			return false
		}
	}
	return true
}
