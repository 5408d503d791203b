package store

import (
	"bytes"
	"hash/maphash"
	"strings"
	"sync"
)

// Baseline is what one read of a prefix saw of each key (View.Refresh). A Writer's
// SyncFrom plans against it instead of reading the store again, and keeps it up to date with
// what it writes. Every write is guarded by the mod revision the key had in the baseline, so a
// write to a key that changed meanwhile fails its transaction; SyncFrom then reads the store
// and plans again (as Sync does) and stops trusting the baseline.
//
// What a baseline cannot see is a change by someone else to a key it has no reason to write
// (one it holds as already desired, or one created after it was read): such a change stays
// until the next read, as a change made just after Sync's own read does. The hub is the
// store's only (fenced) writer and takes a new baseline every pass, so a pass converges on
// what the previous one left.
//
// A baseline keeps a 64-bit digest of each value, not the value (8 bytes a key instead of the
// record: the hub's 21,020-key scale test holds 60 MB of values). The digests are seeded per
// process (hash/maphash), so a value that differs from the stored one looks the same only by a
// chance of 2⁻⁶⁴ a key that no one can steer.
type Baseline struct {
	prefix string
	mu     sync.Mutex
	kvs    map[string]stored
	stale  bool
	// byKind indexes the keys that parse: built by the first plan of a selector with a kind
	// and kept by every write, so that a plan goes through the keys of its kind (and
	// cluster), not through every key.
	byKind kindIndex
}

// stored is what a plan knows of one stored key: its mod revision and its value, or (in a
// snapshot) the value's digest only.
type stored struct {
	key      string
	modRev   int64
	value    []byte
	sum      uint64
	digested bool // sum stands for the value
	// parsed is ParseKey(key) when parseErr is nil; set by a View, which parses every key once.
	parsed   Key
	parseErr error
	isParsed bool
}

// parse is ParseKey(s.key), parsed once by whoever made s when it could.
func (s *stored) parse() (Key, error) {
	if s.isParsed {
		return s.parsed, s.parseErr
	}
	return ParseKey(s.key)
}

// holds reports whether the key's stored value is val.
func (s stored) holds(val []byte) bool {
	if s.digested {
		return s.sum == digest(val)
	}
	return bytes.Equal(s.value, val)
}

// holdsValue is holds(v.val), taking v's digest when it has one (a value that stands for a
// frozen record has nothing else).
func (s stored) holdsValue(v storedValue) bool {
	switch {
	case s.digested && v.summed:
		return s.sum == v.sum
	case v.summed && v.val == nil:
		return digest(s.value) == v.sum
	}
	return s.holds(v.val)
}

// valueSeed seeds the digests of one process.
var valueSeed = maphash.MakeSeed()

func digest(val []byte) uint64 { return maphash.Bytes(valueSeed, val) }

// storedOf is what a plan knows of key-values read from the store.
func storedOf(kvs []*storedKV) []stored {
	out := make([]stored, len(kvs))
	for i, kv := range kvs {
		out[i] = stored{key: string(kv.Key), modRev: kv.ModRevision, value: kv.Value}
	}
	return out
}

// kvsFor returns the snapshot's key-values that sel selects (keys that do not parse are left
// out: a plan leaves them alone), or ok false when the snapshot cannot answer for sel's prefix
// (nil, stale, or read under another prefix). It parses each key once, and goes through the
// keys of sel's kind only (byKind).
func (s *Baseline) kvsFor(sel Selector) (kvs []stored, ok bool) {
	if s == nil || !strings.HasPrefix(sel.Prefix, s.prefix) {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stale {
		return nil, false
	}
	if sel.Kind != 0 {
		if s.byKind == nil {
			s.indexKinds()
		}
		s.byKind.each(sel, func(key string) {
			if kv := s.kvs[key]; sel.matchesKey(key, kv.parsed) {
				kvs = append(kvs, kv)
			}
		})
		return kvs, true
	}
	for key, kv := range s.kvs {
		kv = s.parsed(key, kv)
		if kv.parseErr == nil && sel.matchesKey(key, kv.parsed) {
			kvs = append(kvs, kv)
		}
	}
	return kvs, true
}

// parsed returns kv, the entry of key, with its key parsed, and keeps it so.
func (s *Baseline) parsed(key string, kv stored) stored {
	if !kv.isParsed {
		kv.parsed, kv.parseErr = ParseKey(key)
		kv.isParsed = true
		s.kvs[key] = kv
	}
	return kv
}

// indexKinds builds byKind.
func (s *Baseline) indexKinds() {
	s.byKind = kindIndex{}
	for key, kv := range s.kvs {
		s.index(key, s.parsed(key, kv))
	}
}

// index adds key, whose entry is kv, to byKind (a key that does not parse to none).
func (s *Baseline) index(key string, kv stored) {
	if kv.parseErr == nil {
		s.byKind.add(key, kv.parsed)
	}
}

// applied records a committed batch: its puts now have mod revision rev, its deletes are gone.
func (s *Baseline) applied(batch []change, rev int64) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range batch {
		if c.val == nil {
			s.remove(c.key)
			continue
		}
		s.put(c.key, stored{key: c.key, modRev: rev, sum: digest(c.val), digested: true})
	}
}

// put sets the entry of key to kv, keeping byKind. s.mu is held.
func (s *Baseline) put(key string, kv stored) {
	if s.byKind != nil {
		kv = s.parsed(key, kv)
		s.index(key, kv)
	}
	s.kvs[key] = kv
}

// remove drops the entry of key, keeping byKind. s.mu is held.
func (s *Baseline) remove(key string) {
	if kv, ok := s.kvs[key]; ok && s.byKind != nil && kv.isParsed && kv.parseErr == nil {
		s.byKind.remove(key, kv.parsed)
	}
	delete(s.kvs, key)
}

// current reports whether s can still be planned against (not stale).
func (s *Baseline) current() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.stale
}

// invalidate makes the snapshot answer no more plans.
func (s *Baseline) invalidate() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.stale = true
	s.mu.Unlock()
}
