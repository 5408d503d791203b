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

// RecordError reports a desired record the writer could not write: it breaks a field rule
// (ErrInvalidRecord) or is too large even split (ErrRecordTooLarge). It fails only that
// record: what the store held for its key is left as it was.
type RecordError struct {
	// Key is the record's key.
	Key Key
	// Err says why; it wraps ErrInvalidRecord or ErrRecordTooLarge.
	Err error
}

// Error implements error.
func (e *RecordError) Error() string {
	return fmt.Sprintf("failed to write record %s: %v", e.Key, e.Err)
}

// Unwrap returns the cause.
func (e *RecordError) Unwrap() error { return e.Err }

// NotWrittenError is what Sync returns when it wrote every desired record but Records: the
// caller reports each (for the hub, on its global service) and carries on.
type NotWrittenError struct {
	// Records are the records not written, sorted by key.
	Records []*RecordError
}

// Error implements error.
func (e *NotWrittenError) Error() string {
	if len(e.Records) == 1 {
		return e.Records[0].Error()
	}
	return fmt.Sprintf("failed to write %d records, the first: %v", len(e.Records), e.Records[0])
}

// Unwrap returns each record's error, so that errors.Is sees their causes.
func (e *NotWrittenError) Unwrap() []error {
	out := make([]error, len(e.Records))
	for i, r := range e.Records {
		out[i] = r
	}
	return out
}
