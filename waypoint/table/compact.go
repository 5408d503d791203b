package table

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/meshfed/meshfed/federation/model"
)

// A waypoint routes an aggregated service's cluster on another network as one endpoint
// (aggregate), so it need not keep that cluster's endpoints one by one: the state keeps such a
// record compacted, one stand-in per group of endpoints the aggregate cannot tell apart (the
// same ports, locality above the node, conditions and labels), weighted by the group's summed
// weights, without an address. The aggregate of the stand-ins is the aggregate of the
// endpoints. A compacted record is routed aggregated even once its service is not (a stand-in
// has no address to route to) until the table has read its records again whole
// (state.reread, Table.Run).

// compact replaces rec's endpoints by their stand-ins when every one of them is on another
// network than the waypoint's; a record with an endpoint on the waypoint's network, or already
// compacted, stays as it is.
func (s *state) compact(rec *model.PublishedEndpoints) {
	if len(rec.Endpoints) == 0 || compacted(rec) {
		return
	}
	for i := range rec.Endpoints {
		if rec.Endpoints[i].Locality.Network == s.network {
			return
		}
	}
	index := make(map[string]int)
	var out []model.Endpoint
	var key strings.Builder
	for i := range rec.Endpoints {
		ep := &rec.Endpoints[i]
		key.Reset()
		groupKey(&key, ep)
		if j, ok := index[key.String()]; ok {
			out[j].Weight = clampWeight(uint64(out[j].Weight) + uint64(ep.EffectiveWeight()))
			continue
		}
		index[key.String()] = len(out)
		stand := *ep
		stand.Address, stand.Hostname, stand.Locality.Node = "", "", ""
		stand.Weight = ep.EffectiveWeight()
		stand.Ports = slices.Clone(ep.Ports)
		out = append(out, stand)
	}
	rec.Endpoints = slices.Clip(out)
}

// groupKey writes what tells ep's group: its ports, its locality above the node, its
// conditions and its labels.
func groupKey(b *strings.Builder, ep *model.Endpoint) {
	for _, p := range ep.Ports {
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(int(p.Port)))
		b.WriteByte(',')
	}
	l := &ep.Locality
	for _, v := range [...]string{l.Network, l.Region, l.Zone, l.Subzone, l.Cluster} {
		b.WriteByte(0)
		b.WriteString(v)
	}
	b.WriteByte(0)
	for _, c := range [...]bool{ep.Ready, ep.Serving, ep.Terminating} {
		if c {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ep.Labels)) {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(ep.Labels[k])
	}
}

// compacted reports whether rec holds stand-ins: a stored endpoint always has an address.
func compacted(rec *model.PublishedEndpoints) bool {
	return len(rec.Endpoints) > 0 && rec.Endpoints[0].Address == ""
}

// anyCompacted reports whether one of records is compacted.
func anyCompacted(records map[string]*model.PublishedEndpoints) bool {
	for _, r := range records {
		if compacted(r) {
			return true
		}
	}
	return false
}

// rereadIfCompacted asks for the records to be read again whole when the service under key,
// no longer aggregated, has compacted records.
func (s *state) rereadIfCompacted(key string) {
	if anyCompacted(s.endpoints[key]) {
		s.reread = true
	}
}
