package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
)

// What the writer sends to etcd. etcd refuses a request larger than its --max-request-bytes,
// 1.5 MiB by default (the embedded server keeps the default), counting every key, value and
// compare of a transaction: the writer stays well below it.
const (
	// maxTxnBytes bounds the estimated request size of one transaction (txnSize): two thirds
	// of etcd's default limit.
	maxTxnBytes = 1 << 20
	// maxValueBytes is the largest value the writer stores. Put compares the stored value with
	// the new one and then puts it, sending the value twice: two of them and their key fit in
	// one transaction.
	maxValueBytes = (maxTxnBytes - 8<<10) / 2
	// inlineMaxBytes is the largest endpoints record stored whole; a larger one is split.
	inlineMaxBytes = 64 << 10
	// A chunk ends after an endpoint whose address hashes to a multiple of chunkCutEvery once
	// it holds chunkMinBytes, or after the endpoint that brings it to chunkMaxBytes (so it
	// passes chunkMaxBytes by one endpoint at most). Cutting where the content says (not every
	// n endpoints) keeps a change to one endpoint in one chunk, even when endpoints come and
	// go before it. These bounds are the writer's choice, not part of the format: readers
	// take any chunks a head names.
	chunkMinBytes  = 16 << 10
	chunkMaxBytes  = 64 << 10
	chunkCutEvery  = 64
	minEndpointLen = 48 // no endpoint encodes shorter: {"address":"::","locality":{},...}
)

// ErrRecordTooLarge is wrapped by a RecordError for a record that does not fit a value even
// split: a service record, or a single endpoint, larger than the writer's value limit.
var ErrRecordTooLarge = errors.New("record too large for the store")

// storedValue is one key-value the writer stores for a record. owner is the key of the record
// it belongs to (its own key, or the endpoints key of a chunk); part marks a chunk.
type storedValue struct {
	key   string
	val   []byte
	owner string
	part  bool
	// sum is digest(val) when summed: a chunk's, computed once when it was cut, so that a plan
	// against a Baseline does not digest 12 MB of unchanged chunks every pass.
	sum    uint64
	summed bool
	// frozen, when val is nil, is the frozen record whose encoding val is (summed, size bytes
	// long): the writer keeps only the digest, and encodes the record again when it writes it,
	// one transaction at a time.
	frozen Record
	size   int
}

// value returns the bytes to store: val, or the encoding of the frozen record it stands for.
func (v storedValue) value() ([]byte, error) {
	if v.val != nil || v.frozen == nil {
		return v.val, nil
	}
	_, val, err := Encode(v.frozen)
	return val, err
}

// storedForm encodes a record into the key-values that store them: one, or for an endpoints
// record larger than inlineMaxBytes a head and its chunks. It fails with ErrInvalidRecord or
// ErrRecordTooLarge.
func storedForm(r Record) ([]storedValue, error) {
	vals, _, err := storedFormAfter(r, nil)
	return vals, err
}

// storedFormAfter is storedForm that reuses the chunks of prev, the split form of an earlier
// version of the record, and returns the split form of this one (nil when it is stored
// whole).
func storedFormAfter(r Record, prev *splitForm) ([]storedValue, *splitForm, error) {
	if e, ok := r.(*EndpointsRecord); ok && len(e.Endpoints) > inlineMaxBytes/minEndpointLen {
		fps, err := prev.patchedDigests(e)
		if err != nil {
			return nil, nil, err
		}
		return split(e, prev, fps)
	}
	key, val, err := Encode(r)
	if err != nil {
		return nil, nil, err
	}
	if e, ok := r.(*EndpointsRecord); ok && len(val) > inlineMaxBytes {
		return split(e, prev, nil)
	}
	if len(val) > maxValueBytes {
		return nil, nil, fmt.Errorf("failed to store record %s: value of %d bytes, limit %d: %w", key, len(val), maxValueBytes, ErrRecordTooLarge)
	}
	return []storedValue{{key: key, val: val, owner: key}}, nil, nil
}

// split stores an endpoints record in parts: its endpoints cut into chunks (see chunkCutEvery),
// then the head naming them. Where a run of endpoints is one prev cut into a chunk, that
// chunk is taken as it is: the cuts depend only on the endpoints since the previous cut, so
// it is the chunk split would make again. fps are the endpoints' digests when the caller
// has them (and has validated the record), nil otherwise.
func split(r *EndpointsRecord, prev *splitForm, fps []uint64) ([]storedValue, *splitForm, error) {
	if fps == nil {
		if err := r.Validate(); err != nil {
			return nil, nil, err
		}
		fps = make([]uint64, len(r.Endpoints))
		var buf []byte
		for i := range r.Endpoints {
			fps[i], buf = endpointDigest(&r.Endpoints[i], buf)
		}
	}
	owner := r.Key().String()
	prefix, err := chunkPrefix(r)
	if err != nil {
		return nil, nil, err
	}
	next := &splitForm{fps: fps}
	var out []storedValue
	var ids []string
	for i := 0; i < len(r.Endpoints); {
		c := prev.reusable(fps, i)
		if c == nil {
			if c, err = cutChunk(r, prefix, fps, i); err != nil {
				return nil, nil, err
			}
		}
		next.add(c)
		out = append(out, storedValue{key: c.key, val: c.val, owner: owner, part: true, sum: c.sum, summed: true})
		ids = append(ids, c.id)
		i += len(c.fps)
	}
	head := &EndpointsHead{
		Namespace: r.Namespace, Domain: r.Domain, Name: r.Name, Cluster: r.Cluster,
		Scope: r.Scope, Stale: r.Stale, Count: len(r.Endpoints), Chunks: ids,
	}
	key, val, err := Encode(head)
	if err != nil {
		return nil, nil, err
	}
	if len(val) > maxValueBytes {
		return nil, nil, fmt.Errorf("failed to store record %s: head of %d chunks is %d bytes: %w", key, len(ids), len(val), ErrRecordTooLarge)
	}
	return append(out, storedValue{key: key, val: val, owner: owner}), next, nil
}

// cutChunk encodes the chunk of r's endpoints that starts at from: it ends after an endpoint
// whose address cuts (cutsAfter) once it holds chunkMinBytes, after the endpoint that brings
// it to chunkMaxBytes, before an endpoint that would take it past maxValueBytes, or at the
// end of the record.
func cutChunk(r *EndpointsRecord, prefix []byte, fps []uint64, from int) (*splitChunk, error) {
	var body bytes.Buffer
	c := &splitChunk{end: cutAtRecordEnd}
	to := from
	for ; to < len(r.Endpoints); to++ {
		ep, err := json.Marshal(&r.Endpoints[to])
		if err != nil {
			return nil, fmt.Errorf("failed to encode record %s: %w", r.Key(), err)
		}
		if len(prefix)+len(ep)+2 > maxValueBytes {
			return nil, fmt.Errorf("failed to store record %s: endpoint %s encodes to %d bytes: %w", r.Key(), r.Endpoints[to].Address, len(ep), ErrRecordTooLarge)
		}
		if to > from && len(prefix)+body.Len()+1+len(ep)+2 > maxValueBytes {
			c.end = cutByNext
			break
		}
		if to > from {
			body.WriteByte(',')
		}
		body.Write(ep)
		if size := len(prefix) + body.Len() + 2; size >= chunkMaxBytes || (size >= chunkMinBytes && cutsAfter(r.Endpoints[to].Address)) {
			c.end = cutByContent
			to++
			break
		}
	}
	c.val = make([]byte, 0, len(prefix)+body.Len()+2)
	c.val = append(append(append(c.val, prefix...), body.Bytes()...), ']', '}')
	c.sum = digest(c.val)
	c.id = chunkID(c.val)
	c.key = EndpointsChunkKey(r.Namespace, r.Domain, r.Name, r.Cluster, c.id).String()
	c.fps = slices.Clone(fps[from:to]) // not a view of fps, which later splits replace
	return c, nil
}

// chunkPrefix is the start of every chunk value of r, up to and including the '[' that opens
// its endpoints: the value is prefix, the endpoints' encodings joined by ',', then "]}", which
// is exactly what Encode makes of the chunk (TestSplitChunksEncodeAsEncode).
func chunkPrefix(r *EndpointsRecord) ([]byte, error) {
	c := &EndpointsChunk{Namespace: r.Namespace, Domain: r.Domain, Name: r.Name, Cluster: r.Cluster, Endpoints: []StoredEndpoint{}}
	body, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("failed to encode record %s: %w", r.Key(), err)
	}
	body, ok := bytes.CutSuffix(body, []byte("[]}"))
	if !ok {
		return nil, fmt.Errorf("failed to encode record %s: unexpected chunk encoding %s", r.Key(), body)
	}
	return append(append(fmt.Appendf(nil, `{"v":%d,`, PartsVersion), body[1:]...), '['), nil
}

// cutsAfter reports whether a chunk may end after the endpoint at addr.
func cutsAfter(addr string) bool {
	h := fnv.New64a()
	_, _ = h.Write([]byte(addr))
	return h.Sum64()%chunkCutEvery == 0
}

// chunkID is the ID of a chunk stored as val: the first 64 bits of its SHA-256, in hexadecimal.
func chunkID(val []byte) string {
	sum := sha256.Sum256(val)
	return hex.EncodeToString(sum[:chunkIDLen/2])
}
