// Package deploy holds meshfed's kustomize bases: the CRDs (crds/, and the MCS CRDs members need
// in mcs/), the hub (hub/ highly available on an external etcd, hub-embedded/ one replica with
// its embedded etcd) and the waypoint template (waypoint/, generated from meshfedctl's own
// objects). It has no Go code: its tests render every base and apply it to a real API server.
package deploy
