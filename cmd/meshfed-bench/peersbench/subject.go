package peersbench

import (
	"strconv"
	"strings"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/benchmesh"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/loadgen"
)

// kind is what a subject runs.
type kind string

// The subjects' kinds: the backend itself (the baseline), the waypoint and the peers.
const (
	kindDirect      kind = "direct"
	kindWaypoint    kind = "waypoint"
	kindBaseline    kind = "waypoint-base"
	kindHAProxyHTTP kind = "haproxy-http"
	kindHAProxyTCP  kind = "haproxy-tcp"
	kindNginx       kind = "nginx"
)

// peerKinds are the proxies the waypoint is compared with, in the tables' order.
var peerKinds = []kind{kindHAProxyHTTP, kindHAProxyTCP, kindNginx}

// subject is one measured path: direct to a backend, or through one proxy process with a
// number of workers.
type subject struct {
	kind    kind
	workers int            // 0 for direct
	addr    benchmesh.Addr // where the client sends, set when started
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

// subjects are direct, then the waypoint, its baseline when there is one, and each peer at
// each worker count.
func subjects(workers []int, baseline bool) []subject {
	out := []subject{{kind: kindDirect}}
	ks := []kind{kindWaypoint}
	if baseline {
		ks = append(ks, kindBaseline)
	}
	for _, w := range workers {
		for _, k := range append(ks, peerKinds...) {
			out = append(out, subject{kind: k, workers: w})
		}
	}
	return out
}

// isWaypoint reports whether s runs meshfed-waypoint.
func (s subject) isWaypoint() bool { return s.kind == kindWaypoint || s.kind == kindBaseline }

// cluster is the X-Meshfed-Cluster s's answers carry: the waypoint's own cluster; nothing
// from the backends directly or through a peer.
func (s subject) cluster() string {
	if s.isWaypoint() {
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
