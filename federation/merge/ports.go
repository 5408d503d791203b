package merge

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/meshfed/meshfed/federation/model"
)

// defaultProtocol is the Kubernetes default port protocol, and the protocol conflict fallback.
const defaultProtocol = "TCP"

// namePair maps one of a cluster's own port names onto the merged port's name.
type namePair struct{ own, merged string }

// portDecl is one cluster's declaration of a merged port. A declaration that collides with a
// port its own cluster already maps to the same merged port is not merged.
type portDecl struct {
	cluster string
	port    model.Port
	merged  bool
}

// portSlot is one merged port: the oldest declaration's properties and every declaration.
type portSlot struct {
	port  model.Port
	decls []portDecl
}

// claimedBy reports whether the cluster already maps one of its ports to this slot.
func (s *portSlot) claimedBy(cluster string) bool {
	for _, d := range s.decls {
		if d.merged && d.cluster == cluster {
			return true
		}
	}
	return false
}

// portMerge accumulates the union of ports across exports, oldest export first.
type portMerge struct {
	slots   []*portSlot
	exports int
	// pairs backs every cluster's names; each export's pairs are contiguous.
	pairs []namePair
}

// mergePorts returns the union of the exports' ports (sorted by number, protocol, name), each
// exporter's mapping of its own port names onto the merged names (indexed by source.pos), and
// the port conflicts.
func mergePorts(aged []source) ([]model.Port, [][]namePair, []model.Conflict) {
	total := 0
	for _, s := range aged {
		total += len(s.export.Ports)
	}
	pm := portMerge{exports: len(aged), pairs: make([]namePair, 0, total)}
	names := make([][]namePair, len(aged))
	for _, s := range aged {
		start := len(pm.pairs)
		for _, p := range s.export.Ports {
			pm.add(s.cluster(), normalizePort(p))
		}
		names[s.pos] = pm.pairs[start:len(pm.pairs):len(pm.pairs)]
	}
	var conflicts []model.Conflict
	for _, slot := range pm.slots {
		if c, ok := pm.resolve(slot); ok {
			conflicts = append(conflicts, c)
		}
	}
	if c, ok := portSetConflict(pm.slots, aged); ok {
		conflicts = append(conflicts, c)
	}
	ports := make([]model.Port, 0, len(pm.slots))
	for _, slot := range pm.slots {
		ports = append(ports, slot.port)
	}
	slices.SortFunc(ports, comparePorts)
	return ports, names, conflicts
}

// portSetConflict reports exports whose port sets differ: the service exposes the union, and
// MCS asks for a PortConflict on every exporter whenever the ports are not identical in all
// the constituent Services (KEP 1645, "Service Port"). Slots are in declaration order, oldest
// export first; the message lists each port not every exporter declares, with its declarers.
func portSetConflict(slots []*portSlot, aged []source) (model.Conflict, bool) {
	g := valueGroups{}
	all := make([]string, len(aged))
	for i, s := range aged {
		all[i] = s.cluster()
	}
	for _, slot := range slots {
		var by []string
		for _, d := range slot.decls {
			if d.merged {
				by = append(by, d.cluster)
			}
		}
		if len(by) < len(aged) {
			g[portString(slot.port)] = by
		}
	}
	if len(g) == 0 {
		return model.Conflict{}, false
	}
	return model.Conflict{
		Reason:   model.ReasonPortConflict,
		Message:  fmt.Sprintf("port sets differ, so the service exposes their union; declared only by some exporters: %s", g),
		Clusters: valueGroups{"": all}.clusters(),
	}, true
}

// normalizePort fills the Kubernetes default protocol.
func normalizePort(p model.Port) model.Port {
	p.Protocol = cmp.Or(p.Protocol, defaultProtocol)
	return p
}

// comparePorts orders merged ports by number, protocol, then name.
func comparePorts(a, b model.Port) int {
	return cmp.Or(cmp.Compare(a.Port, b.Port), cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Name, b.Name))
}

// add merges one declared port: it joins the slot of the same name, else the slot of the same
// protocol and number (MCS: "first based on port name then by the protocol and port number
// pair"), else it opens a new slot.
func (pm *portMerge) add(cluster string, p model.Port) {
	slot := pm.find(p)
	switch {
	case slot == nil:
		slot = &portSlot{port: p, decls: make([]portDecl, 0, pm.exports)}
		pm.slots = append(pm.slots, slot)
	case slot.claimedBy(cluster):
		slot.decls = append(slot.decls, portDecl{cluster: cluster, port: p})
		return
	}
	slot.decls = append(slot.decls, portDecl{cluster: cluster, port: p, merged: true})
	pm.pairs = append(pm.pairs, namePair{own: p.Name, merged: slot.port.Name})
}

// find returns the slot a declared port belongs to, or nil.
func (pm *portMerge) find(p model.Port) *portSlot {
	for _, s := range pm.slots {
		if s.port.Name == p.Name {
			return s
		}
	}
	for _, s := range pm.slots {
		if s.port.Protocol == p.Protocol && s.port.Port == p.Port {
			return s
		}
	}
	return nil
}

// taken reports whether another slot already uses the protocol and number.
func (pm *portMerge) taken(self *portSlot, protocol string, number int32) bool {
	for _, s := range pm.slots {
		if s != self && s.port.Protocol == protocol && s.port.Port == number {
			return true
		}
	}
	return false
}

// resolve applies the conflict rules to one slot and returns its conflict, if any. The
// oldest declaration's name and number stand; when merged declarations disagree on protocol
// or appProtocol the port falls back to plain L4 (no appProtocol), on TCP unless every
// declaration agrees on the L4 protocol or TCP is taken by another merged port.
func (pm *portMerge) resolve(slot *portSlot) (model.Conflict, bool) {
	identity := identityDiffers(slot)
	l4, app := protocolsDiffer(slot)
	if !identity && !l4 && !app {
		return model.Conflict{}, false
	}
	if l4 || app {
		slot.port.AppProtocol = ""
		if l4 && !pm.taken(slot, defaultProtocol, slot.port.Port) {
			slot.port.Protocol = defaultProtocol
		}
	}
	return portConflict(slot, l4 || app), true
}

// identityDiffers reports whether any declaration differs from the oldest in name or number,
// or was not merged.
func identityDiffers(slot *portSlot) bool {
	w := slot.decls[0].port
	for _, d := range slot.decls[1:] {
		if !d.merged || d.port.Name != w.Name || d.port.Port != w.Port {
			return true
		}
	}
	return false
}

// protocolsDiffer reports whether the merged declarations disagree on the L4 protocol or on
// appProtocol.
func protocolsDiffer(slot *portSlot) (l4, app bool) {
	w := slot.decls[0].port
	for _, d := range slot.decls[1:] {
		if !d.merged {
			continue
		}
		l4 = l4 || d.port.Protocol != w.Protocol
		app = app || d.port.AppProtocol != w.AppProtocol
	}
	return l4, app
}
