package priority

import (
	"fmt"
	"strings"

	"github.com/meshfed/meshfed/federation/model"
)

// Well-known label keys that failover-priority lists read from Locality rather than from labels.
// They must equal the constants of the same meaning in apis/v1alpha1.
const (
	// RegionLabel reads Locality.Region.
	RegionLabel = "topology.kubernetes.io/region"
	// ZoneLabel reads Locality.Zone.
	ZoneLabel = "topology.kubernetes.io/zone"
	// SubzoneLabel reads Locality.Subzone.
	SubzoneLabel = "topology.istio.io/subzone"
	// NetworkLabel reads Locality.Network.
	NetworkLabel = "topology.istio.io/network"
	// ClusterLabel reads Locality.Cluster.
	ClusterLabel = "topology.istio.io/cluster"
	// HostnameLabel reads Locality.Node.
	HostnameLabel = "kubernetes.io/hostname"
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

// fieldOf maps a label key to its Locality field, or fieldLabel.
func fieldOf(label string) field {
	switch label {
	case RegionLabel:
		return fieldRegion
	case ZoneLabel:
		return fieldZone
	case SubzoneLabel:
		return fieldSubzone
	case NetworkLabel:
		return fieldNetwork
	case ClusterLabel:
		return fieldCluster
	case HostnameLabel:
		return fieldNode
	}
	return fieldLabel
}

// selector reads one ranking key from an endpoint or a client.
type selector struct {
	field field
	label string
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
// network first.
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
		return []field{fieldRegion, fieldZone, fieldSubzone}, true, nil
	case model.ModePreferSameNode:
		return []field{fieldRegion, fieldZone, fieldSubzone, fieldNode}, true, nil
	case model.ModeFailoverPriority:
		// Ranked by its label list, not by locality fields: see newRanker.
	}
	return nil, false, fmt.Errorf("failed to rank by mode %q: %w", mode, ErrInvalidDistribution)
}

// MaxTiers is the largest number of tiers a distribution can produce (DESIGN §3.3): 1 for Any,
// 2(m+1) for a mode with network split and m further keys, N+1 for N failover-priority keys.
func MaxTiers(d model.Distribution) (int, error) {
	r, err := newRanker(Client{}, d)
	if err != nil {
		return 0, err
	}
	return r.width(), nil
}

// failoverSelectors turns a failover-priority list into selectors and the values a client is
// compared by (an entry's "=value" overrides the client's own value).
func failoverSelectors(keys []string, c *Client) ([]selector, []string, error) {
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("failed to rank by failover priority: %w: no keys", ErrInvalidDistribution)
	}
	sels := make([]selector, len(keys))
	want := make([]string, len(keys))
	for i, entry := range keys {
		label, override, hasOverride := strings.Cut(entry, "=")
		sels[i] = selector{field: fieldOf(label), label: label}
		want[i] = sels[i].value(&c.Locality, c.Labels)
		if hasOverride {
			want[i] = override
		}
	}
	return sels, want, nil
}
