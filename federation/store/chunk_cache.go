package store

import (
	"strings"
	"sync"
)

// chunkCache keeps the chunks a client decoded, by key, with the mod revision they were read
// at. A chunk's value never changes under its key (the key names the value's hash), so a
// listing reuses the chunks an earlier one decoded: decoding the 12 MB of a 50,000-endpoint
// record was half of a listing of the store.
type chunkCache struct {
	mu sync.Mutex
	m  map[string]cachedChunk
}

type cachedChunk struct {
	modRev int64
	chunk  *EndpointsChunk
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
	c.m[string(kv.Key)] = cachedChunk{modRev: kv.ModRevision, chunk: chunk}
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
