package store

import (
	"strings"
	"sync"
)

// chunkCache keeps the chunks a client decoded, by key, with the mod revision they were read
// at. A chunk's value never changes under its key (the key names the value's hash), so a
// listing reuses the chunks an earlier one decoded: the hub reads the whole store every pass,
// and decoding the 12 MB of a 50,000-endpoint record each time was half of a pass.
type chunkCache struct {
	mu sync.Mutex
	m  map[string]cachedChunk
}

type cachedChunk struct {
	modRev int64
	chunk  *EndpointsChunk
	// sum is the digest of the chunk's value, for a Baseline that did not read it.
	sum uint64
}

// get returns the chunk decoded from kv before, if any.
func (c *chunkCache) get(kv *storedKV) (*EndpointsChunk, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[string(kv.Key)]
	return e.chunk, ok && e.modRev == kv.ModRevision
}

// put keeps a chunk decoded from kv.
func (c *chunkCache) put(kv *storedKV, chunk *EndpointsChunk) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]cachedChunk)
	}
	c.m[string(kv.Key)] = cachedChunk{modRev: kv.ModRevision, chunk: chunk, sum: digest(kv.Value)}
}

// held returns the chunk kept for kv's key at kv's mod revision, if any; kv needs no value.
func (c *chunkCache) held(kv *storedKV) (cachedChunk, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[string(kv.Key)]
	return e, ok && e.modRev == kv.ModRevision
}

// retain drops the chunks under prefix that a listing of it did not see.
func (c *chunkCache) retain(prefix string, seen map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if strings.HasPrefix(k, prefix) && !seen[k] {
			delete(c.m, k)
		}
	}
}
