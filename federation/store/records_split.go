package store

// An endpoints record too large for one value is stored in parts (schema version 2): chunks,
// each holding a run of the endpoints under EndpointsChunkKey, and a head under the record's
// own EndpointsKey naming the chunks in order. Readers never see the parts: List, Get and
// Watch join them into the EndpointsRecord they stand for, and only once every chunk the
// head names is there.

// EndpointsHead is the head of an endpoints record stored in parts, under
// EndpointsKey(Namespace, Domain, Name, Cluster). It carries everything of the
// EndpointsRecord but its endpoints.
type EndpointsHead struct {
	// Namespace, Domain, Name, Cluster, Scope and Stale are those of the EndpointsRecord.
	Namespace string `json:"namespace"`
	Domain    string `json:"domain"`
	Name      string `json:"name"`
	Cluster   string `json:"cluster"`
	Scope     string `json:"scope"`
	Stale     bool   `json:"stale,omitempty"`
	// Count is the number of endpoints in all chunks together.
	Count int `json:"count"`
	// Chunks are the IDs of the chunks holding the endpoints, in order: the record's endpoints
	// are the chunks' endpoints, concatenated. At least one.
	Chunks []string `json:"chunks"`
}

// EndpointsChunk is one part of an endpoints record stored in parts, under
// EndpointsChunkKey(Namespace, Domain, Name, Cluster, ID). Its ID is the first 64 bits, in
// hexadecimal, of the SHA-256 of its stored value, so that a chunk's content never changes
// under its key: a head that keeps a chunk keeps its key, and a reader checks every chunk's
// value against its key.
type EndpointsChunk struct {
	// Namespace, Domain, Name and Cluster are those of the record the chunk belongs to.
	Namespace string `json:"namespace"`
	Domain    string `json:"domain"`
	Name      string `json:"name"`
	Cluster   string `json:"cluster"`
	// Endpoints are a run of the record's endpoints; at least one.
	Endpoints []StoredEndpoint `json:"endpoints"`
	// ID is the chunk's ID; it is the last segment of the key, not part of the value.
	ID string `json:"-"`
}

// Key implements Record.
func (r *EndpointsHead) Key() Key { return EndpointsKey(r.Namespace, r.Domain, r.Name, r.Cluster) }

// Key implements Record.
func (r *EndpointsChunk) Key() Key {
	return EndpointsChunkKey(r.Namespace, r.Domain, r.Name, r.Cluster, r.ID)
}

func (*EndpointsHead) isRecord()  {}
func (*EndpointsChunk) isRecord() {}
