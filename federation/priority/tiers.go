package priority

import "github.com/meshfed/meshfed/federation/model"

// Client is the caller whose point of view the tiers are computed from: a waypoint's locality
// and, for failover-priority keys that are not well-known, its labels.
type Client struct {
	// Locality is where the client runs.
	Locality model.Locality
	// Labels are the client's own labels, for failover-priority keys outside Locality.
	Labels map[string]string
}

// Tiers is the priority tiering of one endpoint list for one client. It indexes into the endpoint
// slice it was computed from and never copies or reorders endpoints.
type Tiers struct {
	// Of[i] is the tier of endpoint i (0 = best); tiers are contiguous from 0.
	Of []int
	// Members[t] lists the indices of tier t's endpoints in input order. Every index appears in
	// exactly one tier. The slices share one backing array; treat them as read-only.
	Members [][]int
}

// Len is the number of (non-empty) tiers.
func (t *Tiers) Len() int { return len(t.Members) }

// Assign computes each endpoint's tier as DESIGN §3.3 says, then compacts empty tiers away. A
// tier depends only on its endpoint and the client, so the result does not depend on input order
// (beyond the order inside Members). Values compare by plain equality, as in Istio and ztunnel:
// an unset value equals an unset value, so a level nobody labels does not break the chain of
// consecutive matches. A client with neither labels nor any locality gets a single tier, as
// Istio skips failover priority for a proxy without labels. It fails only for a distribution
// Resolve cannot produce.
func Assign(eps []model.Endpoint, c Client, d model.Distribution) (Tiers, error) {
	r, err := newRanker(c, d)
	if err != nil {
		return Tiers{}, err
	}
	of := make([]int, len(eps))
	counts := make([]int, r.width())
	if c.unlabeled() {
		counts[0] = len(eps)
		return group(of, counts), nil
	}
	for i := range eps {
		t := r.rank(&eps[i])
		of[i] = t
		counts[t]++
	}
	return group(of, counts), nil
}

// unlabeled reports whether the client has no labels at all: Istio's proxy labels are the pod's
// labels plus its locality, cluster, node and network, so both must be empty.
func (c *Client) unlabeled() bool {
	return len(c.Labels) == 0 && c.Locality == (model.Locality{})
}

// group renumbers raw tiers to 0..N-1 in place and lists each tier's members.
func group(of, counts []int) Tiers {
	remap := make([]int, len(counts))
	n := 0
	for raw, count := range counts {
		remap[raw] = n
		if count > 0 {
			n++
		}
	}
	flat := make([]int, len(of))
	members := make([][]int, n)
	offset := 0
	for raw, count := range counts {
		if count > 0 {
			members[remap[raw]] = flat[offset : offset : offset+count]
			offset += count
		}
	}
	for i, raw := range of {
		t := remap[raw]
		of[i] = t
		members[t] = append(members[t], i)
	}
	return Tiers{Of: of, Members: members}
}

// ranker computes raw (uncompacted) tiers for one client and distribution.
type ranker struct {
	sels          []selector
	want          []string
	split         bool
	clientNet     string
	clientCluster string
}

// newRanker prepares the key list and the client's values for it.
func newRanker(c Client, d model.Distribution) (*ranker, error) {
	r := &ranker{clientNet: c.Locality.Network, clientCluster: c.Locality.Cluster}
	if d.Mode == model.ModeFailoverPriority {
		sels, want, split, err := failoverSelectors(d.FailoverPriority, &c)
		if err != nil {
			return nil, err
		}
		r.sels, r.want, r.split = sels, want, split
		return r, nil
	}
	fields, split, err := modeFields(d.Mode)
	if err != nil {
		return nil, err
	}
	r.split = split
	for _, f := range fields {
		s := selector{field: f, sameCluster: f == fieldNode}
		r.sels = append(r.sels, s)
		r.want = append(r.want, s.value(&c.Locality, c.Labels))
	}
	return r, nil
}

// width is the number of raw tiers: m+1 per network side.
func (r *ranker) width() int {
	if r.split {
		return 2 * (len(r.sels) + 1)
	}
	return len(r.sels) + 1
}

// rank is (network differs ? m+1 : 0) + (m − consecutive matches of k1…km).
func (r *ranker) rank(e *model.Endpoint) int {
	m := len(r.sels)
	match := 0
	for match < m && r.matches(match, e) {
		match++
	}
	tier := m - match
	if r.split && e.Locality.Network != r.clientNet {
		tier += m + 1
	}
	return tier
}

// matches reports whether endpoint e has the client's value of key k; a node matches only in
// the client's own cluster.
func (r *ranker) matches(k int, e *model.Endpoint) bool {
	s := r.sels[k]
	if s.value(&e.Locality, e.Labels) != r.want[k] {
		return false
	}
	return !s.sameCluster || e.Locality.Cluster == r.clientCluster
}
