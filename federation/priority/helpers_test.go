package priority

import (
	"fmt"
	"slices"

	"github.com/meshfed/meshfed/federation/model"
)

// loc builds a locality: network, region, zone, subzone, node, cluster.
func loc(network, region, zone, subzone, node, cluster string) model.Locality {
	return model.Locality{Network: network, Region: region, Zone: zone, Subzone: subzone, Node: node, Cluster: cluster}
}

// readyAt is a healthy endpoint at l.
func readyAt(l model.Locality) model.Endpoint {
	return model.Endpoint{Address: fmt.Sprintf("10.0.0.%d", len(l.Node)), Locality: l, Ready: true, Serving: true}
}

// withHealth returns n endpoints of which the first healthy ones are ready.
func withHealth(n, healthyCount int) []model.Endpoint {
	eps := make([]model.Endpoint, n)
	for i := range eps {
		eps[i] = model.Endpoint{Address: fmt.Sprintf("10.1.%d.%d", i/256, i%256), Ready: i < healthyCount, Serving: true}
	}
	return eps
}

// cloneEndpoints deep-copies endpoints, labels included.
func cloneEndpoints(eps []model.Endpoint) []model.Endpoint {
	out := slices.Clone(eps)
	for i := range out {
		out[i].Ports = slices.Clone(eps[i].Ports)
		if eps[i].Labels != nil {
			out[i].Labels = make(map[string]string, len(eps[i].Labels))
			for k, v := range eps[i].Labels {
				out[i].Labels[k] = v
			}
		}
	}
	return out
}

// endpointsEqual compares endpoint slices deeply.
func endpointsEqual(a, b []model.Endpoint) bool {
	return slices.EqualFunc(a, b, func(x, y model.Endpoint) bool {
		if x.Address != y.Address || x.Locality != y.Locality || x.Ready != y.Ready ||
			x.Serving != y.Serving || x.Terminating != y.Terminating || x.Weight != y.Weight {
			return false
		}
		if !slices.Equal(x.Ports, y.Ports) || len(x.Labels) != len(y.Labels) {
			return false
		}
		for k, v := range x.Labels {
			if w, ok := y.Labels[k]; !ok || w != v {
				return false
			}
		}
		return true
	})
}

// counters is an InFlight backed by a slice.
type counters []int64

// InFlight returns the count of endpoint i.
func (c counters) InFlight(i int) int64 { return c[i] }
