package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/meshfed/meshfed/federation/model"
)

// Every value carries its schema version as the JSON field "v". Adding an optional field keeps
// the version (readers ignore fields they do not know); any other change bumps it, and a reader
// rejects versions it does not know.
const (
	// SchemaVersion is the version of the four records (cluster, service, endpoints, waypoints)
	// written whole.
	SchemaVersion = 1
	// PartsVersion is the version of an endpoints record stored in parts: its EndpointsHead
	// and EndpointsChunks. A reader of version 1 only rejects such a record (and reports it)
	// instead of taking its head for a record without endpoints.
	PartsVersion = 2
)

// versionOf is the schema version r is written with.
func versionOf(r Record) int {
	switch r.(type) {
	case *EndpointsHead, *EndpointsChunk:
		return PartsVersion
	}
	return SchemaVersion
}

// Encode validates a record and returns its key and value, whatever its size; Writer splits
// endpoints records too large for one value (see Writer.Sync).
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
	fmt.Fprintf(&out, `{"v":%d`, versionOf(r))
	if len(body) > 2 {
		out.WriteByte(',')
	}
	out.Write(body[1:])
	if c, ok := r.(*EndpointsChunk); ok && chunkID(out.Bytes()) != c.ID {
		return "", nil, invalid(r, "the chunk's ID is not its value's")
	}
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
	r, err := unmarshalVersioned(k.Kind, value)
	if err != nil {
		return nil, &DecodeError{Key: key, Err: err}
	}
	if c, ok := r.(*EndpointsChunk); ok {
		c.ID = k.Chunk
		if id := chunkID(value); id != k.Chunk {
			return nil, &DecodeError{Key: key, Err: fmt.Errorf("value hashes to chunk %s: %w", id, ErrKeyMismatch)}
		}
	}
	if got := r.Key(); got != k {
		return nil, &DecodeError{Key: key, Err: fmt.Errorf("value names %q: %w", got.String(), ErrKeyMismatch)}
	}
	if err := r.Validate(); err != nil {
		return nil, &DecodeError{Key: key, Err: err}
	}
	if s, ok := r.(*ServiceRecord); ok {
		s.shareImports()
	}
	return r, nil
}

// unmarshalVersioned decodes value into a new record of kind k and its schema version "v" in
// one pass of encoding/json (a separate pass for the version was a third of Decode's time). A
// value that is not a JSON object fails; then the version is checked before anything else, so
// an unknown version is reported as such even if its fields do not fit this reader's types.
// An endpoints key holds a whole record (version 1) or the head of one stored in parts
// (version 2); a chunk key only a chunk (version 2).
func unmarshalVersioned(k Kind, value []byte) (Record, error) {
	var v *int
	var r Record
	var err error
	want := SchemaVersion
	switch k {
	case KindCluster:
		w := struct {
			V *int `json:"v"`
			*ClusterRecord
		}{ClusterRecord: &ClusterRecord{}}
		err = json.Unmarshal(value, &w)
		v, r = w.V, w.ClusterRecord
	case KindService:
		w := struct {
			V *int `json:"v"`
			*ServiceRecord
		}{ServiceRecord: &ServiceRecord{}}
		err = json.Unmarshal(value, &w)
		v, r = w.V, w.ServiceRecord
	case KindEndpoints:
		var w endpointsValue
		err = json.Unmarshal(value, &w)
		v, r = w.V, w.record()
		if v != nil && *v == PartsVersion {
			want = PartsVersion
		}
	case KindEndpointsChunk:
		w := struct {
			V *int `json:"v"`
			*EndpointsChunk
		}{EndpointsChunk: &EndpointsChunk{}}
		err = json.Unmarshal(value, &w)
		v, r, want = w.V, w.EndpointsChunk, PartsVersion
	case KindGateway:
		w := struct {
			V *int `json:"v"`
			*GatewayRecord
		}{GatewayRecord: &GatewayRecord{}}
		err = json.Unmarshal(value, &w)
		v, r = w.V, w.GatewayRecord
	default:
		w := struct {
			V *int `json:"v"`
			*WaypointsRecord
		}{WaypointsRecord: &WaypointsRecord{}}
		err = json.Unmarshal(value, &w)
		v, r = w.V, w.WaypointsRecord
	}
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return nil, err
	case v == nil:
		return nil, fmt.Errorf("no schema version: %w", ErrUnsupportedVersion)
	case *v != want:
		return nil, fmt.Errorf("schema version %d, this reader knows %d for %s: %w", *v, want, k, ErrUnsupportedVersion)
	case err != nil:
		return nil, err
	}
	return r, nil
}

// endpointsValue is what an endpoints key may hold: a whole record (version 1) or a head
// (version 2), decoded in one pass. Each form ignores the other's fields, as a reader ignores
// fields it does not know.
type endpointsValue struct {
	V *int `json:"v"`
	EndpointsRecord
	Count  int      `json:"count"`
	Chunks []string `json:"chunks"`
}

// record is the EndpointsRecord or, for version 2, the EndpointsHead the value holds.
func (w *endpointsValue) record() Record {
	r := &w.EndpointsRecord
	if w.V == nil || *w.V != PartsVersion {
		return r
	}
	return &EndpointsHead{
		Namespace: r.Namespace, Domain: r.Domain, Name: r.Name, Cluster: r.Cluster,
		Scope: r.Scope, Stale: r.Stale, Count: w.Count, Chunks: w.Chunks,
	}
}

// shareImports makes a decoded record's imports that list the same clusters share one From
// list (model.SameFromNearby), as the merge builds them: decoding gives each its own.
func (r *ServiceRecord) shareImports() {
	for i := range r.Imports {
		if f := model.SameFromNearby(i, r.Imports[i].From, func(j int) []string { return r.Imports[j].From }); f != nil {
			r.Imports[i].From = f
		}
	}
}
