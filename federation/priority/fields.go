package priority

import (
	"fmt"
	"strings"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// field is where a ranking key's value lives.
type field uint8

// The fields; fieldLabel means a label map rather than Locality.
const (
	fieldLabel field = iota
	fieldNetwork
	fieldRegion
	fieldZone
	fieldSubzone
	fieldNode
	fieldCluster
)

// fieldOf maps a label key to its Locality field, or fieldLabel: the well-known topology keys
// are read from Locality (where the hub put the Node's labels and the cluster's network), as
// Istio adds them to proxy and endpoint labels.
func fieldOf(label string) field {
	switch label {
	case wellknown.RegionLabel:
		return fieldRegion
	case wellknown.ZoneLabel:
		return fieldZone
	case wellknown.SubzoneLabel:
		return fieldSubzone
	case wellknown.NetworkLabel:
		return fieldNetwork
	case wellknown.ClusterLabel:
		return fieldCluster
	case wellknown.HostnameLabel:
		return fieldNode
	}
	return fieldLabel
}

// selector reads one ranking key from an endpoint or a client.
type selector struct {
	field field
	label string
	// sameCluster makes a node match only in the client's own cluster: node names are unique
	// inside a cluster only. It is off for a "kubernetes.io/hostname=value" entry, which names
	// a node rather than the client's.
	sameCluster bool
}

// value reads the key from a locality and a label map.
func (s selector) value(loc *model.Locality, labels map[string]string) string {
	switch s.field {
	case fieldNetwork:
		return loc.Network
	case fieldRegion:
		return loc.Region
	case fieldZone:
		return loc.Zone
	case fieldSubzone:
		return loc.Subzone
	case fieldNode:
		return loc.Node
	case fieldCluster:
		return loc.Cluster
	case fieldLabel:
	}
	return labels[s.label]
}

// modeFields returns the keys k1…km of a mode (network excluded) and whether the mode splits by
// network first. PreferClose and PreferSameNode are Istio's failover-priority lists for them
// (network, region, zone; network, region, zone, subzone, node).
func modeFields(mode model.Mode) (fields []field, split bool, err error) {
	switch mode {
	case model.ModeAny:
		return nil, false, nil
	case model.ModePreferNetwork:
		return nil, true, nil
	case model.ModePreferCluster:
		return []field{fieldCluster}, true, nil
	case model.ModePreferRegion:
		return []field{fieldRegion}, true, nil
	case model.ModePreferClose, "PreferSameZone":
		return []field{fieldRegion, fieldZone}, true, nil
	case model.ModePreferSameNode:
		return []field{fieldRegion, fieldZone, fieldSubzone, fieldNode}, true, nil
	case model.ModeFailoverPriority:
		// Ranked by its label list, not by locality fields: see newRanker.
	}
	return nil, false, fmt.Errorf("failed to rank by mode %q: %w", mode, ErrInvalidDistribution)
}

// MaxTiers is the largest number of tiers a distribution can produce (DESIGN §3.3): 1 for Any,
// 2(m+1) for a mode or failover-priority list with a network split and m further keys, N+1 for
// N failover-priority keys without one.
func MaxTiers(d model.Distribution) (int, error) {
	r, err := newRanker(Client{}, d)
	if err != nil {
		return 0, err
	}
	return r.width(), nil
}

// failoverSelectors turns a failover-priority list into selectors and the values a client is
// compared by (an entry's "=value" overrides the client's own value). A list whose first entry
// is exactly topology.istio.io/network splits by network first, as Istio's does since PR
// #60829: the network entry leaves the list and split is true. An entry "network=value" is
// compared like any other key, as in Istio.
func failoverSelectors(keys []string, c *Client) (sels []selector, want []string, split bool, err error) {
	if len(keys) == 0 {
		return nil, nil, false, fmt.Errorf("failed to rank by failover priority: %w: no keys", ErrInvalidDistribution)
	}
	if keys[0] == wellknown.NetworkLabel {
		keys, split = keys[1:], true
	}
	sels = make([]selector, len(keys))
	want = make([]string, len(keys))
	for i, entry := range keys {
		label, override, hasOverride := strings.Cut(entry, "=")
		f := fieldOf(label)
		sels[i] = selector{field: f, label: label, sameCluster: f == fieldNode && !hasOverride}
		want[i] = sels[i].value(&c.Locality, c.Labels)
		if hasOverride {
			want[i] = override
		}
	}
	return sels, want, split, nil
}
