package store

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// SchemaVersion is the version every value is written with, as the JSON field "v". Adding an
// optional field keeps the version (readers ignore fields they do not know); any other change
// bumps it, and a reader rejects versions it does not know.
const SchemaVersion = 1

// Encode validates a record and returns its key and value.
func Encode(r Record) (string, []byte, error) {
	if err := r.Validate(); err != nil {
		return "", nil, err
	}
	key := r.Key().String()
	body, err := json.Marshal(r)
	if err != nil {
		return "", nil, fmt.Errorf("failed to encode record %s: %w", key, err)
	}
	var out bytes.Buffer
	out.Grow(len(body) + 8)
	fmt.Fprintf(&out, `{"v":%d`, SchemaVersion)
	if len(body) > 2 {
		out.WriteByte(',')
	}
	out.Write(body[1:])
	return key, out.Bytes(), nil
}

// Decode turns a stored key and value into a record. Any failure is a *DecodeError: the key is
// malformed, the value is not JSON, has no or an unknown schema version, names another object
// than its key, or breaks a field rule.
func Decode(key string, value []byte) (Record, error) {
	k, err := ParseKey(key)
	if err != nil {
		return nil, &DecodeError{Key: key, Err: err}
	}
	if err := checkVersion(value); err != nil {
		return nil, &DecodeError{Key: key, Err: err}
	}
	r := newRecord(k.Kind)
	if err := json.Unmarshal(value, r); err != nil {
		return nil, &DecodeError{Key: key, Err: err}
	}
	if got := r.Key(); got != k {
		return nil, &DecodeError{Key: key, Err: fmt.Errorf("value names %q: %w", got.String(), ErrKeyMismatch)}
	}
	if err := r.Validate(); err != nil {
		return nil, &DecodeError{Key: key, Err: err}
	}
	return r, nil
}

// checkVersion accepts only values that are JSON objects with "v" equal to SchemaVersion.
func checkVersion(value []byte) error {
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(value, &head); err != nil {
		return err
	}
	if head.V == nil {
		return fmt.Errorf("no schema version: %w", ErrUnsupportedVersion)
	}
	if *head.V != SchemaVersion {
		return fmt.Errorf("schema version %d, this reader knows %d: %w", *head.V, SchemaVersion, ErrUnsupportedVersion)
	}
	return nil
}

// newRecord returns an empty record of the kind, ready to unmarshal into.
func newRecord(k Kind) Record {
	switch k {
	case KindCluster:
		return &ClusterRecord{}
	case KindService:
		return &ServiceRecord{}
	case KindEndpoints:
		return &EndpointsRecord{}
	default:
		return &WaypointsRecord{}
	}
}
