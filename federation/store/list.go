package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// listPageSize bounds the keys one range request returns; larger prefixes are read in pages
// pinned to one revision, so a listing is still a consistent snapshot.
const listPageSize = 500

// Entry is one decoded record and the revision that last changed it.
type Entry struct {
	Key         Key
	Record      Record
	ModRevision int64
}

// Listing is every record under a prefix at one revision, and every value that failed to
// decode there; an endpoints record stored in parts is listed whole. A listing of View.Refresh
// holds no endpoints records.
type Listing struct {
	Revision int64
	Entries  []Entry
	Errors   []*DecodeError
}

// Get reads one record. found is false when the key does not exist; a value that does not
// decode is returned as a *DecodeError. An endpoints record stored in parts is read with its
// chunks, at one revision, and returned whole; a chunk's own key is refused.
func (c *Client) Get(ctx context.Context, k Key) (e Entry, found bool, err error) {
	if err := k.Validate(); err != nil {
		return Entry{}, false, err
	}
	if k.Kind == KindEndpointsChunk {
		return Entry{}, false, fmt.Errorf("failed to get key %s: a chunk is read with its endpoints record: %w", k, ErrMalformedKey)
	}
	key := k.String()
	ops := []clientv3.Op{clientv3.OpGet(key)}
	if k.Kind == KindEndpoints {
		ops = append(ops, clientv3.OpGet(key+"/", clientv3.WithPrefix()))
	}
	resp, err := c.etcd.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return Entry{}, false, fmt.Errorf("failed to get key %s: %w", k, err)
	}
	var kvs []*storedKV
	for _, r := range resp.Responses {
		kvs = append(kvs, r.GetResponseRange().Kvs...)
	}
	if len(kvs) == 0 || string(kvs[0].Key) != key {
		return Entry{}, false, nil
	}
	l := c.decodeListing(kvs, resp.Header.Revision, key+"/")
	for _, e := range l.Entries {
		if e.Key == k {
			return e, true, nil
		}
	}
	for _, derr := range l.Errors {
		if derr.Key == key {
			return Entry{}, true, derr
		}
	}
	return Entry{}, true, &DecodeError{Key: key, Err: fmt.Errorf("no record decoded: %w", ErrInvalidRecord)}
}

// List reads every record under prefix (which must lie under Root) at one revision. Values that
// do not decode, and endpoints records whose parts do not join, are reported in
// Listing.Errors; the other records are still returned. The chunks of an endpoints record are
// joined into it only when the prefix holds the record's key.
func (c *Client) List(ctx context.Context, prefix string) (Listing, error) {
	kvs, rev, err := c.listRaw(ctx, prefix)
	if err != nil {
		return Listing{}, err
	}
	return c.decodeListing(kvs, rev, prefix), nil
}

// parallelDecodeMin is the number of values from which decodeListing spreads the decoding
// over the cores; below it a goroutine per core costs more than it saves.
const parallelDecodeMin = 256

// decodeListing decodes what listRaw read of prefix at revision rev, leaving out the leader
// key, and joins endpoints records stored in parts (joinEntries). Large listings are decoded
// on every core, each value on its own; chunks decoded by an earlier listing are taken from
// the client's cache. The entries keep the order of kvs.
func (c *Client) decodeListing(kvs []*storedKV, rev int64, prefix string) Listing {
	type decoded struct {
		e    Entry
		derr *DecodeError
		skip bool
	}
	out := make([]decoded, len(kvs))
	decodeRange := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if isLeaderKey(kvs[i].Key) {
				out[i].skip = true
				continue
			}
			out[i].e, out[i].derr = c.decodeCached(kvs[i])
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(kvs)/parallelDecodeMin)
	if workers <= 1 {
		decodeRange(0, len(kvs))
	} else {
		var wg sync.WaitGroup
		chunk := (len(kvs) + workers - 1) / workers
		for lo := 0; lo < len(kvs); lo += chunk {
			wg.Go(func() { decodeRange(lo, min(lo+chunk, len(kvs))) })
		}
		wg.Wait()
	}
	l := Listing{Revision: rev, Entries: make([]Entry, 0, len(kvs))}
	for _, d := range out {
		switch {
		case d.skip:
		case d.derr != nil:
			l.Errors = append(l.Errors, d.derr)
		default:
			l.Entries = append(l.Entries, d.e)
		}
	}
	seen := make(map[string]bool)
	for _, e := range l.Entries {
		if e.Key.Kind == KindEndpointsChunk {
			seen[e.Key.String()] = true
		}
	}
	c.chunks.retain(prefix, seen)
	var errs []*DecodeError
	l.Entries, errs = joinEntries(l.Entries)
	l.Errors = append(l.Errors, errs...)
	return l
}

// listRaw reads every key-value under prefix, page by page, all pages at the revision of the
// first.
func (c *Client) listRaw(ctx context.Context, prefix string) ([]*mvccpb.KeyValue, int64, error) {
	return c.listRawAt(ctx, prefix, 0)
}

// listRawAt is listRaw at revision rev, or at the current one when rev is 0, with the options
// more added to every page's read.
func (c *Client) listRawAt(ctx context.Context, prefix string, rev int64, more ...clientv3.OpOption) ([]*mvccpb.KeyValue, int64, error) {
	if !strings.HasPrefix(prefix, Root) {
		return nil, 0, fmt.Errorf("failed to list prefix %q: not under %s: %w", prefix, Root, ErrMalformedKey)
	}
	end := clientv3.GetPrefixRangeEnd(prefix)
	var out []*mvccpb.KeyValue
	for from := prefix; ; {
		opts := append([]clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(listPageSize), clientv3.WithRev(rev)}, more...)
		resp, err := c.etcd.Get(ctx, from, opts...)
		if err != nil {
			return nil, 0, fmt.Errorf("failed to list prefix %s: %w", prefix, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		out = append(out, resp.Kvs...)
		if !resp.More || len(resp.Kvs) == 0 {
			return out, rev, nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// decodeCached is decodeKV that takes chunks from the client's cache, and keeps them there.
func (c *Client) decodeCached(kv *storedKV) (Entry, *DecodeError) {
	if !bytes.HasPrefix(kv.Key, []byte(NamespacesPrefix)) || bytes.Count(kv.Key, []byte("/")) != chunkKeySlashes {
		return decodeKV(kv)
	}
	if chunk, ok := c.chunks.get(kv); ok {
		return Entry{Key: chunk.Key(), Record: chunk, ModRevision: kv.ModRevision}, nil
	}
	e, derr := decodeKV(kv)
	if chunk, ok := e.Record.(*EndpointsChunk); ok {
		c.chunks.put(kv, chunk)
	}
	return e, derr
}

// chunkKeySlashes is the number of '/' in a chunk key: /meshfed/v1/ns/<ns>/endpoints/<domain>/
// <name>/<cluster>/<chunk>.
const chunkKeySlashes = 9

// decodeKV decodes one stored key-value into an Entry.
func decodeKV(kv *mvccpb.KeyValue) (Entry, *DecodeError) {
	r, err := Decode(string(kv.Key), kv.Value)
	if err != nil {
		var derr *DecodeError
		if errors.As(err, &derr) {
			return Entry{}, derr
		}
		return Entry{}, &DecodeError{Key: string(kv.Key), Err: err}
	}
	return Entry{Key: r.Key(), Record: r, ModRevision: kv.ModRevision}, nil
}

// isLeaderKey reports whether a key belongs to the writers' election rather than the records.
func isLeaderKey(key []byte) bool {
	return strings.HasPrefix(string(key), LeaderPrefix+"/")
}

// Clusters returns the cluster records of the listing.
func (l *Listing) Clusters() []*ClusterRecord { return recordsOf[*ClusterRecord](l) }

// Services returns the service records of the listing.
func (l *Listing) Services() []*ServiceRecord { return recordsOf[*ServiceRecord](l) }

// Endpoints returns the endpoints records of the listing, in key order.
func (l *Listing) Endpoints() []*EndpointsRecord { return recordsOf[*EndpointsRecord](l) }

// Waypoints returns the waypoints records of the listing.
func (l *Listing) Waypoints() []*WaypointsRecord { return recordsOf[*WaypointsRecord](l) }

// Gateways returns the shared gateway records of the listing.
func (l *Listing) Gateways() []*GatewayRecord { return recordsOf[*GatewayRecord](l) }

func recordsOf[T Record](l *Listing) []T {
	var out []T
	for _, e := range l.Entries {
		if r, ok := e.Record.(T); ok {
			out = append(out, r)
		}
	}
	return out
}

// storedKV is a raw etcd key-value as read.
type storedKV = mvccpb.KeyValue
