package store

// kindIndex holds keys by kind (an endpoints chunk's under KindEndpoints, as a selector of
// endpoints selects both) and cluster (the key's, "" for kinds without one), so that what a
// selector with a kind selects is found without going through every key. The hub plans and
// retains, against 21,020 keys at 20 clusters, its services, its waypoints and the endpoints of
// each cluster whose records changed.
type kindIndex map[Kind]map[string]map[string]bool

// indexKind is the kind a key of kind k is indexed under.
func indexKind(k Kind) Kind {
	if k == KindEndpointsChunk {
		return KindEndpoints
	}
	return k
}

// add indexes key, which parsed to k.
func (x kindIndex) add(key string, k Key) {
	clusters := x[indexKind(k.Kind)]
	if clusters == nil {
		clusters = map[string]map[string]bool{}
		x[indexKind(k.Kind)] = clusters
	}
	keys := clusters[k.Cluster]
	if keys == nil {
		keys = map[string]bool{}
		clusters[k.Cluster] = keys
	}
	keys[key] = true
}

// remove drops key, which parsed to k.
func (x kindIndex) remove(key string, k Key) {
	delete(x[indexKind(k.Kind)][k.Cluster], key)
}

// each calls f with every key indexed under sel's kind (and sel's cluster, when set); f may
// remove the key it is called with. sel must have a kind.
func (x kindIndex) each(sel Selector, f func(key string)) {
	for cluster, keys := range x[sel.Kind] {
		if sel.Cluster != "" && cluster != sel.Cluster {
			continue
		}
		for key := range keys {
			f(key)
		}
	}
}
