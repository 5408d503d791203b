package source

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshfed/meshfed/federation/dns/zone"
)

// DefaultReleaseGrace is how long a cluster-local name keeps being answered after its takeover
// ended: longer than a change of the coredns ConfigMap takes to reach CoreDNS when the hub
// drops the name's block — kubelet rewrites a mounted ConfigMap at its next sync of the pod
// (every minute by default, with jitter), and CoreDNS's reload plugin rereads the Corefile
// every 30 s with up to 15 s of jitter.
const DefaultReleaseGrace = 3 * time.Minute

// releases remembers the takeovers this watcher served and then lost. Until the grace ends,
// CoreDNS may still forward such a name here; answering it with the cluster's own Service (what
// CoreDNS answers once it has reloaded) gives the name back at once, where an unknown name
// would be REFUSED. A takeover that starts again ends its release.
type releases struct {
	grace time.Duration
	// served are the names taken over in the last table.
	served map[types.NamespacedName]bool
	// until is when each release ends; local holds the cluster's own Service for it, nil until
	// it was read.
	until map[types.NamespacedName]time.Time
	local map[types.NamespacedName]*zone.Service
}

func newReleases(grace time.Duration) *releases {
	return &releases{grace: grace, served: map[types.NamespacedName]bool{},
		until: map[types.NamespacedName]time.Time{}, local: map[types.NamespacedName]*zone.Service{}}
}

// update records the names taken over now. It returns the names released by this change, sorted
// (their local Service is to be read), and drops the releases that ended or whose takeover
// started again.
func (r *releases) update(now time.Time, takenOver map[types.NamespacedName]bool) []types.NamespacedName {
	var fresh []types.NamespacedName
	if r.grace > 0 {
		for k := range r.served {
			if !takenOver[k] {
				r.until[k] = now.Add(r.grace)
				delete(r.local, k)
				fresh = append(fresh, k)
			}
		}
	}
	for k, until := range r.until {
		if takenOver[k] || !now.Before(until) {
			delete(r.until, k)
			delete(r.local, k)
		}
	}
	r.served = takenOver
	slices.SortFunc(fresh, compareNames)
	return fresh
}

// services returns the released names whose local Service was read, as zone services, sorted.
func (r *releases) services() []zone.Service {
	keys := make([]types.NamespacedName, 0, len(r.local))
	for k := range r.local {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareNames)
	out := make([]zone.Service, 0, len(keys))
	for _, k := range keys {
		out = append(out, *r.local[k])
	}
	return out
}

// next is when the earliest release ends (zero when none is pending).
func (r *releases) next() time.Time {
	var first time.Time
	for _, until := range r.until {
		if first.IsZero() || until.Before(first) {
			first = until
		}
	}
	return first
}

func compareNames(a, b types.NamespacedName) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

// LocalService is what the cluster's DNS answers for <name>.<ns>.svc.<cluster domain> of svc,
// as a released zone service: its ClusterIPs and ports. nil (the Service does not exist), a
// headless Service and an ExternalName Service have no addresses, so the name gets no records.
func LocalService(key types.NamespacedName, svc *corev1.Service) zone.Service {
	s := zone.Service{Namespace: key.Namespace, Name: key.Name, Released: true}
	if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return s
	}
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip); err == nil && a.Zone() == "" {
			s.IPs = append(s.IPs, a)
		}
	}
	if len(s.IPs) == 0 {
		return s
	}
	for _, p := range svc.Spec.Ports {
		if p.Port >= 1 && p.Port <= 65535 {
			s.Ports = append(s.Ports, zone.Port{Name: p.Name, Protocol: string(p.Protocol), Number: uint16(p.Port)})
		}
	}
	return s
}
