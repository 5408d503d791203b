package peersbench

import (
	"strconv"
	"strings"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchmesh"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/loadgen"
)

// kind is what a subject runs.
type kind string

// The subjects' kinds: the backend itself (the baseline), the waypoint and the peers on the
// same-network path, and the two-process waypoints and peers of the cross-network path; with
// --baseline-binary, the baseline waypoint on each path (waypoint-base and its pairs).
const (
	kindDirect      kind = "direct"
	kindWaypoint    kind = "waypoint"
	kindBaseline    kind = "waypoint-base"
	kindHAProxyHTTP kind = "haproxy-http"
	kindHAProxyTCP  kind = "haproxy-tcp"
	kindNginx       kind = "nginx"
	kindWaypointH2  kind = "waypoint-h2"
	kindWaypointH3  kind = "waypoint-h3"
	kindHAProxyTLS  kind = "haproxy-tls"
	kindNginxTLS    kind = "nginx-tls"
	kindBaselineH2  kind = "waypoint-base-h2"
	kindBaselineH3  kind = "waypoint-base-h3"
)

// peerKinds are the proxies the waypoint is compared with, in the tables' order.
var peerKinds = []kind{kindHAProxyHTTP, kindHAProxyTCP, kindNginx}

// crossKinds are the cross-network subjects: two waypoints over HBONE on HTTP/2 and on
// HTTP/3, then their peers, two proxies over a TLS hop each; in the tables' order.
var crossKinds = []kind{kindWaypointH2, kindWaypointH3, kindHAProxyTLS, kindNginxTLS}

// crossPeerKinds are the peers the cross-network waypoints are compared with.
var crossPeerKinds = []kind{kindHAProxyTLS, kindNginxTLS}

// subject is one measured path: direct to a backend, or through one proxy process with a
// number of workers.
type subject struct {
	kind    kind
	workers int            // 0 for direct
	addr    benchmesh.Addr // where the client sends, set when started
	// exit is where the client side's process sends on a cross-network subject: the backend
	// side's HBONE address, or its TLS listener. Set when started.
	exit benchmesh.Addr
}

// name is how tables and logs call s: "direct", "waypoint/1", "nginx/2".
func (s subject) name() string {
	if s.kind == kindDirect {
		return string(s.kind)
	}
	return string(s.kind) + "/" + strconv.Itoa(s.workers)
}

// fileName is name made safe for a file name.
func (s subject) fileName() string { return strings.ReplaceAll(s.name(), "/", "-") }

// subjects are direct, then at each worker count the waypoint, its baseline when there is
// one, each peer, and with cross the cross-network waypoints, each followed by its baseline
// pair when there is one, and their peers.
func subjects(workers []int, baseline, cross bool) []subject {
	out := []subject{{kind: kindDirect}}
	ks := []kind{kindWaypoint}
	if baseline {
		ks = append(ks, kindBaseline)
	}
	ks = append(ks, peerKinds...)
	if cross {
		for _, k := range crossKinds {
			ks = append(ks, k)
			if b := baselineOf(k); baseline && b != "" {
				ks = append(ks, b)
			}
		}
	}
	for _, w := range workers {
		for _, k := range ks {
			out = append(out, subject{kind: k, workers: w})
		}
	}
	return out
}

// baselineOf is the kind of waypoint kind k's baseline, measured with --baseline-binary:
// waypoint-base for the same-network waypoint, a pair of its own for each cross-network
// pair; "" for the others.
func baselineOf(k kind) kind {
	switch k {
	case kindWaypoint:
		return kindBaseline
	case kindWaypointH2:
		return kindBaselineH2
	case kindWaypointH3:
		return kindBaselineH3
	case kindDirect, kindBaseline, kindHAProxyHTTP, kindHAProxyTCP, kindNginx, kindHAProxyTLS, kindNginxTLS, kindBaselineH2, kindBaselineH3:
		return ""
	}
	return ""
}

// isWaypoint reports whether s runs meshfed-waypoint.
func (s subject) isWaypoint() bool {
	return s.kind == kindWaypoint || s.kind == kindBaseline || s.isCrossWaypoint()
}

// isBaseline reports whether s runs the baseline binary: the same-network waypoint-base or
// both sides of a baseline cross-network pair.
func (s subject) isBaseline() bool {
	return s.kind == kindBaseline || s.kind == kindBaselineH2 || s.kind == kindBaselineH3
}

// isCrossWaypoint reports whether s runs two meshfed-waypoints joined by an HBONE tunnel.
func (s subject) isCrossWaypoint() bool {
	return s.kind == kindWaypointH2 || s.kind == kindWaypointH3 || s.kind == kindBaselineH2 || s.kind == kindBaselineH3
}

// isCrossPeer reports whether s runs two peer processes joined by a TLS hop.
func (s subject) isCrossPeer() bool { return s.kind == kindHAProxyTLS || s.kind == kindNginxTLS }

// cluster is the X-Meshfed-Cluster s's answers carry: the cluster of the waypoint that sends
// to the backends (the same-network waypoint's own, the backend side's on a cross-network
// path); nothing from the backends directly or through a peer.
func (s subject) cluster() string {
	switch {
	case s.isCrossWaypoint():
		return s.exitCluster()
	case s.isWaypoint():
		return cluster
	}
	return ""
}

// target is the client side of s with up to conns keep-alive connections.
func (s subject) target(conns int) *loadgen.Target {
	return loadgen.NewTarget("http://"+benchmesh.HostPort(s.addr.IP, s.addr.Port)+"/", s.cluster(), conns)
}

// roundOrder is the order of the subjects in round r: as listed in even rounds, reversed in
// odd ones, so that no proxy always runs first or last.
func roundOrder(n, r int) []int {
	out := make([]int, n)
	for i := range out {
		if r%2 == 0 {
			out[i] = i
		} else {
			out[i] = n - 1 - i
		}
	}
	return out
}
