package store

import "sync/atomic"

// Stats counts what a Writer sent to etcd since it was created, so that tests and benchmarks can
// show that writes are proportional to the change.
type Stats struct {
	// Txns is the number of transactions committed (including ones that wrote nothing).
	Txns int64
	// KeysPut and KeysDeleted count keys actually written or removed.
	KeysPut     int64
	KeysDeleted int64
	// KeysUnchanged counts puts skipped because the stored value was identical.
	KeysUnchanged int64
	// BytesWritten is the sum of key and value lengths of puts plus key lengths of deletes.
	BytesWritten int64
}

// counters is the live, concurrency-safe form of Stats.
type counters struct {
	txns, puts, deletes, same, bytes atomic.Int64
}

func (c *counters) txn() { c.txns.Add(1) }

func (c *counters) put(key string, val []byte) {
	c.puts.Add(1)
	c.bytes.Add(int64(len(key) + len(val)))
}

func (c *counters) deleted(key string) {
	c.deletes.Add(1)
	c.bytes.Add(int64(len(key)))
}

func (c *counters) unchanged(n int) { c.same.Add(int64(n)) }

func (c *counters) snapshot() Stats {
	return Stats{
		Txns:          c.txns.Load(),
		KeysPut:       c.puts.Load(),
		KeysDeleted:   c.deletes.Load(),
		KeysUnchanged: c.same.Load(),
		BytesWritten:  c.bytes.Load(),
	}
}

// Stats returns the writer's counters.
func (w *Writer) Stats() Stats { return w.stats.snapshot() }
