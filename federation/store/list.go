package store

import (
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
// decode there.
type Listing struct {
	Revision int64
	Entries  []Entry
	Errors   []*DecodeError
}

// Get reads one record. found is false when the key does not exist; a value that does not
// decode is returned as a *DecodeError.
func (c *Client) Get(ctx context.Context, k Key) (e Entry, found bool, err error) {
	if err := k.Validate(); err != nil {
		return Entry{}, false, err
	}
	resp, err := c.etcd.Get(ctx, k.String())
	if err != nil {
		return Entry{}, false, fmt.Errorf("failed to get key %s: %w", k, err)
	}
	if len(resp.Kvs) == 0 {
		return Entry{}, false, nil
	}
	e, derr := decodeKV(resp.Kvs[0])
	if derr != nil {
		return Entry{}, true, derr
	}
	return e, true, nil
}

// List reads every record under prefix (which must lie under Root) at one revision. Values that
// do not decode are reported in Listing.Errors; the other records are still returned.
func (c *Client) List(ctx context.Context, prefix string) (Listing, error) {
	kvs, rev, err := c.listRaw(ctx, prefix)
	if err != nil {
		return Listing{}, err
	}
	return decodeListing(kvs, rev), nil
}

// parallelDecodeMin is the number of values from which decodeListing spreads the decoding
// over the cores; below it a goroutine per core costs more than it saves.
const parallelDecodeMin = 256

// decodeListing decodes what listRaw read at revision rev, leaving out the leader key. Large
// listings (a hub pass reads the whole store) are decoded on every core, each value on its own;
// the entries keep the order of kvs.
func decodeListing(kvs []*storedKV, rev int64) Listing {
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
			out[i].e, out[i].derr = decodeKV(kvs[i])
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
	return l
}

// listRaw reads every key-value under prefix, page by page, all pages at the revision of the
// first.
func (c *Client) listRaw(ctx context.Context, prefix string) ([]*mvccpb.KeyValue, int64, error) {
	if !strings.HasPrefix(prefix, Root) {
		return nil, 0, fmt.Errorf("failed to list prefix %q: not under %s: %w", prefix, Root, ErrMalformedKey)
	}
	end := clientv3.GetPrefixRangeEnd(prefix)
	var (
		out []*mvccpb.KeyValue
		rev int64
	)
	for from := prefix; ; {
		resp, err := c.etcd.Get(ctx, from, clientv3.WithRange(end), clientv3.WithLimit(listPageSize), clientv3.WithRev(rev))
		if err != nil {
			return nil, 0, fmt.Errorf("failed to list prefix %s: %w", prefix, err)
		}
		rev = resp.Header.Revision
		out = append(out, resp.Kvs...)
		if !resp.More || len(resp.Kvs) == 0 {
			return out, rev, nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

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

// Endpoints returns the endpoints records of the listing.
func (l *Listing) Endpoints() []*EndpointsRecord { return recordsOf[*EndpointsRecord](l) }

// Waypoints returns the waypoints records of the listing.
func (l *Listing) Waypoints() []*WaypointsRecord { return recordsOf[*WaypointsRecord](l) }

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
