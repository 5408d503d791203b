package store

import (
	"errors"
	"fmt"
)

// ErrNotLeader is returned by every write of a Writer that does not hold leadership, whether it
// knows that already or etcd rejected the write because another writer has taken over.
var ErrNotLeader = errors.New("not the federation store leader")

// ErrMalformedKey is wrapped by errors about keys that are not meshfed store keys.
var ErrMalformedKey = errors.New("malformed key")

// ErrUnsupportedVersion is wrapped by a DecodeError when a value has no schema version or one
// this reader does not know (a newer hub wrote it).
var ErrUnsupportedVersion = errors.New("unsupported schema version")

// ErrKeyMismatch is wrapped by a DecodeError when a record names another object than its key
// (for example an endpoints record whose cluster differs from the cluster in its key).
var ErrKeyMismatch = errors.New("record does not match its key")

// ErrInvalidRecord is wrapped by errors about records that break a field rule (an unknown
// scope, a port out of range, an unparsable address).
var ErrInvalidRecord = errors.New("invalid record")

// errConflict reports that a key changed between the read and the write of one Sync pass; Sync
// retries on it and never returns it.
var errConflict = errors.New("key changed during sync")

// DecodeError reports a stored value that a reader could not turn into a record. Readers return
// it alongside the records they could decode; they never stop at it.
type DecodeError struct {
	// Key is the etcd key of the value.
	Key string
	// Err says what was wrong; it wraps ErrMalformedKey, ErrUnsupportedVersion, ErrKeyMismatch,
	// ErrInvalidRecord or a JSON error.
	Err error
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("failed to decode value of key %q: %v", e.Key, e.Err)
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }
