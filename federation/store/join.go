package store

import (
	"errors"
	"fmt"
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
	p := newParts()
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
		return entries, nil
	}
	out = entries[:0:0]
	for _, e := range entries {
		switch h := e.Record.(type) {
		case *EndpointsChunk:
			continue
		case *EndpointsHead:
			r, err := p.join(h)
			if err != nil {
				errs = append(errs, &DecodeError{Key: e.Key.String(), Err: err})
				continue
			}
			e.Record = r
		}
		out = append(out, e)
	}
	return out, errs
}
