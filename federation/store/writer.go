package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// DefaultSessionTTL is the lease TTL, in seconds, of a writer's leadership: a leader that stops
// renewing it (crashed, partitioned) loses leadership this long after its last renewal. etcd
// keeps a lease across its own restart and then counts the whole TTL again from the moment it
// is back, so a crashed writer's leadership can outlive it by a TTL after a store restart: see
// Evict.
const DefaultSessionTTL = 10

// WriterOptions configure a Writer.
type WriterOptions struct {
	// Identity is stored as the leader key's value (for example the pod name), so operators can
	// see who leads.
	Identity string
	// SessionTTL is the leadership lease TTL in seconds; 0 means DefaultSessionTTL.
	SessionTTL int
	// Logger receives leadership changes; nil means slog.Default().
	Logger *slog.Logger
}

// Writer writes records while, and only while, it holds the store leadership. Leadership is an
// etcd election on LeaderPrefix; every write is a transaction guarded by the create revision
// of this writer's leader key, so etcd itself rejects the writes of a deposed leader with
// ErrNotLeader, even before the writer learns that it lost the lease.
type Writer struct {
	client *Client
	opts   WriterOptions
	log    *slog.Logger
	stats  counters
	splits splitCache

	mu      sync.Mutex
	session *concurrency.Session
	fence   fence
}

// fence is the leader key this writer created and its create revision; zero when not leading.
type fence struct {
	key string
	rev int64
}

// NewWriter returns a writer that is not leading yet; it does no I/O.
func NewWriter(c *Client, opts WriterOptions) *Writer {
	if opts.SessionTTL == 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Writer{client: c, opts: opts, log: log.With("component", "store-writer")}
}

// Campaign blocks until this writer is the leader, ctx ends, or etcd fails. It returns at once
// if the writer already leads.
func (w *Writer) Campaign(ctx context.Context) error {
	w.mu.Lock()
	leading := w.session != nil
	w.mu.Unlock()
	if leading {
		return nil
	}
	s, err := concurrency.NewSession(w.client.etcd, concurrency.WithTTL(w.opts.SessionTTL))
	if err != nil {
		return fmt.Errorf("failed to create session %s: %w", LeaderPrefix, err)
	}
	e := concurrency.NewElection(s, LeaderPrefix)
	if err := e.Campaign(ctx, w.opts.Identity); err != nil {
		_ = s.Close()
		return fmt.Errorf("failed to campaign %s: %w", LeaderPrefix, err)
	}
	w.mu.Lock()
	w.session, w.fence = s, fence{key: e.Key(), rev: e.Rev()}
	w.mu.Unlock()
	w.log.Info("became store leader", "identity", w.opts.Identity, "leaderKey", e.Key(), "leaderRevision", e.Rev())
	return nil
}

// Done is closed when the leadership session ends (lease lost or Resign); a leader should then
// stop acting as one. Before Campaign it is already closed.
func (w *Writer) Done() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.session == nil {
		closed := make(chan struct{})
		close(closed)
		return closed
	}
	return w.session.Done()
}

// Resign gives up leadership so that another writer can take over at once: it revokes the
// session, which deletes the leader key bound to it in the same etcd write (one round trip and
// one log sync; deleting the key first would cost a second). Every write after Resign is
// refused, by the writer itself (it has dropped its fence) and by etcd (the fence's key is
// gone). When the revocation fails (ctx ends, etcd is unreachable), the session is no longer
// kept alive either, so the leadership ends with its TTL.
func (w *Writer) Resign(ctx context.Context) error {
	w.mu.Lock()
	s := w.session
	w.session, w.fence = nil, fence{}
	w.mu.Unlock()
	if s == nil {
		return nil
	}
	s.Orphan()
	if _, err := w.client.etcd.Revoke(ctx, s.Lease()); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return fmt.Errorf("failed to resign %s: %w", LeaderPrefix, err)
	}
	w.log.Info("resigned store leadership", "identity", w.opts.Identity)
	return nil
}

// Evict revokes the sessions of the other writers, leading or campaigning, whose identity
// (their leader key's value) gone reports as gone, and returns those identities. Their leader
// keys go with their sessions, so a Campaign waiting behind them proceeds at once, and every
// write they still attempt is refused by etcd (the fence holds without their cooperation).
//
// It is for a caller that knows those writers are dead without waiting for their sessions to
// expire: the hub evicts the replica it took the Kubernetes Lease from (that replica's Lease ran
// out, so it has stopped acting), and, on its embedded etcd, which only the process embedding it
// writes, every session a previous incarnation left behind (etcd counts their TTL afresh after
// its restart). This writer's own session is never evicted.
func (w *Writer) Evict(ctx context.Context, gone func(identity string) bool) ([]string, error) {
	resp, err := w.client.etcd.Get(ctx, LeaderPrefix+"/", clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("failed to list writers %s: %w", LeaderPrefix, err)
	}
	w.mu.Lock()
	own := clientv3.NoLease
	if w.session != nil {
		own = w.session.Lease()
	}
	w.mu.Unlock()
	var evicted []string
	for _, kv := range resp.Kvs {
		id, lease := string(kv.Value), clientv3.LeaseID(kv.Lease)
		if lease == clientv3.NoLease || lease == own || !gone(id) {
			continue
		}
		if _, err := w.client.etcd.Revoke(ctx, lease); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return evicted, fmt.Errorf("failed to evict writer %s: %w", id, err)
		}
		w.log.Info("evicted store writer", "identity", id, "leaderKey", string(kv.Key))
		evicted = append(evicted, id)
	}
	return evicted, nil
}

// currentFence returns the compare that every write carries, or ErrNotLeader.
func (w *Writer) currentFence() (fence, clientv3.Cmp, error) {
	w.mu.Lock()
	f := w.fence
	w.mu.Unlock()
	if f.key == "" {
		return fence{}, clientv3.Cmp{}, ErrNotLeader
	}
	return f, clientv3.Compare(clientv3.CreateRevision(f.key), "=", f.rev), nil
}

// Put writes one record unless the stored value is already identical, in which case nothing is
// written and no revision is created. written reports whether a write happened. An endpoints
// record too large for one value is written in parts, as Sync writes it; a record that cannot
// be written at all fails with a *RecordError.
func (w *Writer) Put(ctx context.Context, r Record) (written bool, err error) {
	vals, err := w.splits.storedForm(r)
	if err != nil {
		return false, &RecordError{Key: r.Key(), Err: err}
	}
	if len(vals) > 1 {
		return w.putParts(ctx, r)
	}
	key := vals[0].key
	val, err := vals[0].value()
	if err != nil {
		return false, &RecordError{Key: r.Key(), Err: err}
	}
	_, cmp, err := w.currentFence()
	if err != nil {
		return false, fmt.Errorf("failed to put key %s: %w", key, err)
	}
	same := clientv3.Compare(clientv3.Value(key), "=", string(val))
	ops := []clientv3.Op{clientv3.OpPut(key, string(val))}
	if r.Key().Kind == KindEndpoints {
		ops = append(ops, clientv3.OpDelete(key+"/", clientv3.WithPrefix())) // the parts of a former split form
	}
	put := clientv3.OpTxn([]clientv3.Cmp{same}, nil, ops)
	resp, err := w.client.etcd.Txn(ctx).If(cmp).Then(put).Commit()
	if err != nil {
		return false, fmt.Errorf("failed to put key %s: %w", key, err)
	}
	w.stats.txn()
	if !resp.Succeeded {
		return false, fmt.Errorf("failed to put key %s: %w", key, ErrNotLeader)
	}
	if resp.Responses[0].GetResponseTxn().Succeeded {
		w.stats.unchanged(1)
		return false, nil
	}
	w.stats.put(key, val)
	return true, nil
}

// Delete removes one record, with its parts when it is an endpoints record stored in parts.
// deleted reports whether it existed; deleting an absent key writes nothing.
func (w *Writer) Delete(ctx context.Context, k Key) (deleted bool, err error) {
	if err := k.Validate(); err != nil {
		return false, err
	}
	key := k.String()
	_, cmp, err := w.currentFence()
	if err != nil {
		return false, fmt.Errorf("failed to delete key %s: %w", key, err)
	}
	ops := []clientv3.Op{clientv3.OpDelete(key)}
	if k.Kind == KindEndpoints {
		ops = append(ops, clientv3.OpDelete(key+"/", clientv3.WithPrefix())) // its parts, if split
	}
	resp, err := w.client.etcd.Txn(ctx).If(cmp).Then(ops...).Commit()
	if err != nil {
		return false, fmt.Errorf("failed to delete key %s: %w", key, err)
	}
	w.stats.txn()
	if !resp.Succeeded {
		return false, fmt.Errorf("failed to delete key %s: %w", key, ErrNotLeader)
	}
	if resp.Responses[0].GetResponseDeleteRange().Deleted == 0 {
		return false, nil
	}
	w.stats.deleted(key)
	return true, nil
}
