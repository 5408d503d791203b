package writeback

import (
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// TakeoverGrace is how long a cluster-local name whose takeover was turned off keeps being
// answered with the global service by meshfed-dns after its forwarding block left the Corefile:
// longer than CoreDNS's default reload interval (30 s) plus its jitter (15 s). In a real cluster
// kubelet's sync of the ConfigMap volume adds up to a minute more; meshfed-dns covers that by
// answering the released name with the cluster's own Service (federation/dns/README.md,
// "Release").
const TakeoverGrace = 50 * time.Second

// importAnnotations are the hub's annotations on a ServiceImport: the hostname, and the
// takeover state. want says whether the service takes over its cluster-local name here; cur
// are the annotations the member's import has now (nil when there is none). A takeover that
// ends is released: the annotation stays, with the release time, until TakeoverGrace after
// the pass that first saw it end.
func importAnnotations(hostname string, want bool, cur map[string]string, now time.Time) map[string]string {
	out := map[string]string{wellknown.HostnameAnnotation: hostname}
	switch {
	case want:
		out[wellknown.TakeoverAnnotation] = "true"
	case cur[wellknown.TakeoverAnnotation] == "true":
		until, err := time.Parse(time.RFC3339, cur[wellknown.TakeoverReleaseAnnotation])
		if err != nil {
			until = now.Add(TakeoverGrace)
		}
		if now.Before(until) {
			out[wellknown.TakeoverAnnotation] = "true"
			out[wellknown.TakeoverReleaseAnnotation] = until.UTC().Format(time.RFC3339)
		}
	}
	return out
}

// hubAnnotations lists the annotation keys the hub owns on a ServiceImport.
var hubAnnotations = []string{wellknown.HostnameAnnotation, wellknown.TakeoverAnnotation, wellknown.TakeoverReleaseAnnotation}

// annotationsHold reports whether have carries exactly want's values for the hub's keys (a key
// absent from want is absent from have).
func annotationsHold(have, want map[string]string) bool {
	for _, k := range hubAnnotations {
		hv, hok := have[k]
		wv, wok := want[k]
		if hok != wok || hv != wv {
			return false
		}
	}
	return true
}

// setAnnotations brings the hub's keys of have in line with want and returns the map.
func setAnnotations(have, want map[string]string) map[string]string {
	if have == nil {
		have = map[string]string{}
	}
	for _, k := range hubAnnotations {
		if v, ok := want[k]; ok {
			have[k] = v
		} else {
			delete(have, k)
		}
	}
	return have
}
