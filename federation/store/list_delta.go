package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Reading the store again without its chunks. The hub lists the whole store every pass; with a
// 50,000-endpoint service that was 12 MB of chunks read back per pass although a chunk's value
// never changes under its key (the key names the value's hash). listWithoutChunks reads, at one
// revision, the values of everything but the ranges of the records whose chunks the client
// holds, and only the keys and mod revisions in those ranges; it then reads the values of the
// chunks it does not hold at that mod revision. A pass after one endpoint changed reads the
// small records, one head and one chunk.

// maxChunkGroups bounds the split records whose chunk ranges a listing reads keys-only; past
// it the listing reads everything (each group adds two range reads).
const maxChunkGroups = 64

// maxChunkGets bounds the chunks of one group fetched one by one; past it the group's range
// is read whole.
const maxChunkGets = 64

// chunkRead is what listWithoutChunks read: the key-values in key order (a held chunk with no
// value) and the chunks held, by key.
type chunkRead struct {
	kvs  []*storedKV
	rev  int64
	held map[string]cachedChunk
}

// listWithoutChunks reads prefix as listRaw does, but takes the chunks the client holds at
// their current mod revision from its cache. Without chunks held under prefix it is listRaw,
// and so it is when a read after the first fails (the revision of the first may have been
// compacted meanwhile).
func (c *Client) listWithoutChunks(ctx context.Context, prefix string) (chunkRead, error) {
	groups := c.chunks.groups(prefix)
	if len(groups) > 0 && len(groups) <= maxChunkGroups {
		out, err := c.readAround(ctx, prefix, groups)
		if err == nil || ctx.Err() != nil {
			return out, err
		}
	}
	kvs, rev, err := c.listRaw(ctx, prefix)
	return chunkRead{kvs: kvs, rev: rev}, err
}

// readAround reads prefix at one revision: the values outside groups, the keys inside them,
// and the values of the chunks there that the cache does not hold.
func (c *Client) readAround(ctx context.Context, prefix string, groups []string) (chunkRead, error) {
	if !strings.HasPrefix(prefix, Root) {
		return chunkRead{}, fmt.Errorf("failed to list prefix %q: not under %s: %w", prefix, Root, ErrMalformedKey)
	}
	out := chunkRead{held: map[string]cachedChunk{}}
	from := prefix
	for _, g := range groups {
		if err := c.readRange(ctx, &out, from, g, false); err != nil {
			return chunkRead{}, err
		}
		if err := c.readGroup(ctx, &out, g); err != nil {
			return chunkRead{}, err
		}
		from = clientv3.GetPrefixRangeEnd(g)
	}
	if err := c.readRange(ctx, &out, from, clientv3.GetPrefixRangeEnd(prefix), false); err != nil {
		return chunkRead{}, err
	}
	return out, nil
}

// readRange appends [from, end) at out.rev (the current revision when 0, which it sets),
// page by page, keys only when keysOnly.
func (c *Client) readRange(ctx context.Context, out *chunkRead, from, end string, keysOnly bool) error {
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(listPageSize), clientv3.WithRev(out.rev)}
		if keysOnly {
			opts = append(opts, clientv3.WithKeysOnly())
		}
		resp, err := c.etcd.Get(ctx, from, opts...)
		if err != nil {
			return fmt.Errorf("failed to list range %s: %w", from, err)
		}
		if out.rev == 0 {
			out.rev = resp.Header.Revision
		}
		out.kvs = append(out.kvs, resp.Kvs...)
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// readGroup appends the chunks under group (a record's key and "/"): the held ones from the
// cache, the others read at out.rev one by one, or the whole range when too many changed.
func (c *Client) readGroup(ctx context.Context, out *chunkRead, group string) error {
	keys := chunkRead{rev: out.rev}
	if err := c.readRange(ctx, &keys, group, clientv3.GetPrefixRangeEnd(group), true); err != nil {
		return err
	}
	var missing []clientv3.Op
	held := map[string]cachedChunk{}
	for _, kv := range keys.kvs {
		if ch, ok := c.chunks.held(kv); ok {
			held[string(kv.Key)] = ch
			continue
		}
		missing = append(missing, clientv3.OpGet(string(kv.Key), clientv3.WithRev(out.rev)))
	}
	if len(missing) > maxChunkGets {
		return c.readRange(ctx, out, group, clientv3.GetPrefixRangeEnd(group), false)
	}
	maps.Copy(out.held, held)
	fetched := map[string]*storedKV{}
	if len(missing) > 0 {
		resp, err := c.etcd.Txn(ctx).Then(missing...).Commit()
		if err != nil {
			return fmt.Errorf("failed to read the chunks of %s: %w", group, err)
		}
		for _, r := range resp.Responses {
			for _, kv := range r.GetResponseRange().Kvs {
				fetched[string(kv.Key)] = kv
			}
		}
	}
	for _, kv := range keys.kvs {
		if v := fetched[string(kv.Key)]; v != nil {
			out.kvs = append(out.kvs, v)
		} else {
			out.kvs = append(out.kvs, kv)
		}
	}
	return nil
}

// groups returns the records under prefix whose chunks the cache holds, as the prefix of
// their chunks' keys, sorted.
func (c *chunkCache) groups(prefix string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := map[string]bool{}
	for k := range c.m {
		if i := strings.LastIndexByte(k, '/'); i > 0 && strings.HasPrefix(k, prefix) {
			set[k[:i+1]] = true
		}
	}
	out := make([]string, 0, len(set))
	for g := range set {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}
