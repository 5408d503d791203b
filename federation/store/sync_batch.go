package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Estimated protobuf overhead of a transaction and of each of its operations (tags, lengths,
// the compare's target and revision), generous: txnSize overestimates.
const (
	txnOverhead = 256
	opOverhead  = 64
)

// batcher writes one plan's changes in transactions bounded by maxOpsPerTxn and maxTxnBytes,
// in order. A transaction etcd refuses as too large is split in halves; a single change it
// refuses fails the record that owns it, and the record's other changes are skipped.
type batcher struct {
	w      *Writer
	f      fence
	snap   *Baseline
	failed failures
	res    SyncResult
}

// write commits changes in order.
func (b *batcher) write(ctx context.Context, changes []change) error {
	for len(changes) > 0 {
		n := b.batchLen(changes)
		if err := b.commit(ctx, b.encode(b.live(changes[:n]))); err != nil {
			return err
		}
		changes = changes[n:]
	}
	return nil
}

// encode gives the puts of frozen records in batch (a copy of the plan's changes) their
// values, so that a Sync holds the encodings of one transaction at a time, not of all it
// writes. A record that no longer encodes (it did when first written, and a frozen record
// does not change) is filed in failed and left as the store holds it.
func (b *batcher) encode(batch []change) []change {
	for i := range batch {
		if c := &batch[i]; c.val == nil && c.frozen != nil {
			_, val, err := Encode(c.frozen)
			if err != nil {
				b.failed.add(c.frozen.Key(), err)
				continue
			}
			c.val = val
		}
	}
	return b.live(batch)
}

// batchLen is how many of changes, from the first, go into the next transaction: at most
// maxOpsPerTxn and maxTxnBytes (estimated), and at least one.
func (b *batcher) batchLen(changes []change) int {
	size := txnOverhead + len(b.f.key)
	for i := range changes {
		size += changeSize(&changes[i])
		if i > 0 && (i == maxOpsPerTxn || size > maxTxnBytes) {
			return i
		}
	}
	return len(changes)
}

// changeSize is the estimated request bytes of one change: its compare and its operation.
func changeSize(c *change) int { return 2*len(c.key) + max(len(c.val), c.size) + 2*opOverhead }

// live drops the changes of records that failed.
func (b *batcher) live(batch []change) []change {
	out := batch[:0:0]
	for _, c := range batch {
		if b.failed[c.owner] == nil {
			out = append(out, c)
		}
	}
	return out
}

// commit writes one batch, splitting it while etcd refuses it as too large.
func (b *batcher) commit(ctx context.Context, batch []change) error {
	if len(batch) == 0 {
		return nil
	}
	rev, err := b.w.commit(ctx, b.f, batch)
	switch {
	case err == nil:
		b.applied(batch, rev)
		return nil
	case !tooLarge(err):
		return err
	case len(batch) == 1:
		k, _ := ParseKey(batch[0].owner)
		b.failed.add(k, fmt.Errorf("failed to write key %s: %w: %w", batch[0].key, ErrRecordTooLarge, err))
		return nil
	}
	half := len(batch) / 2
	if err := b.commit(ctx, batch[:half]); err != nil {
		return err
	}
	return b.commit(ctx, b.live(batch[half:]))
}

// applied counts a committed batch and records it in the snapshot.
func (b *batcher) applied(batch []change, rev int64) {
	b.snap.applied(batch, rev)
	for _, c := range batch {
		if c.val == nil {
			b.res.Deleted++
		} else {
			b.res.Put++
		}
	}
}

// tooLarge reports whether etcd refused a request for its size (more than its
// --max-request-bytes), or gRPC did, on either side, before etcd saw it (grpc-go says "message
// larger than max" for both).
func tooLarge(err error) bool {
	return errors.Is(err, rpctypes.ErrRequestTooLarge) || errors.Is(err, rpctypes.ErrGRPCRequestTooLarge) ||
		strings.Contains(err.Error(), "message larger than max")
}

// commit writes one batch in a transaction guarded by the leader fence and each key's mod
// revision, and returns the revision it committed at. It tells a lost leadership
// (ErrNotLeader) from a key changed meanwhile (errConflict).
func (w *Writer) commit(ctx context.Context, f fence, batch []change) (int64, error) {
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(f.key), "=", f.rev)}
	ops := make([]clientv3.Op, 0, len(batch))
	for _, c := range batch {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(c.key), "=", c.modRev))
		if c.val == nil {
			ops = append(ops, clientv3.OpDelete(c.key))
		} else {
			ops = append(ops, clientv3.OpPut(c.key, string(c.val)))
		}
	}
	resp, err := w.client.etcd.Txn(ctx).If(cmps...).Then(ops...).Else(clientv3.OpGet(f.key)).Commit()
	if err != nil {
		return 0, fmt.Errorf("failed to commit batch from key %s: %w", batch[0].key, err)
	}
	w.stats.txn()
	if !resp.Succeeded {
		leader := resp.Responses[0].GetResponseRange().Kvs
		if len(leader) == 0 || leader[0].CreateRevision != f.rev {
			return 0, fmt.Errorf("failed to commit batch from key %s: %w", batch[0].key, ErrNotLeader)
		}
		return 0, errConflict
	}
	for _, c := range batch {
		if c.val == nil {
			w.stats.deleted(c.key)
		} else {
			w.stats.put(c.key, c.val)
		}
	}
	return resp.Header.Revision, nil
}

// failures are the records a Sync could not write, by key.
type failures map[string]*RecordError

func (f failures) add(k Key, err error) {
	var re *RecordError
	if !errors.As(err, &re) {
		re = &RecordError{Key: k, Err: err}
	}
	f[k.String()] = re
}

// err is the *NotWrittenError listing the failures, sorted by key, or nil.
func (f failures) err() error {
	if len(f) == 0 {
		return nil
	}
	e := &NotWrittenError{}
	for _, key := range slices.Sorted(maps.Keys(f)) {
		e.Records = append(e.Records, f[key])
	}
	return e
}
