package framework

import (
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// apiServerFlags trim kube-apiserver for tests so that four of them fit in
// about 1.3 GiB. envtest adds its own flags (ports, certificates, etcd,
// RBAC, service CIDR) underneath these.
func apiServerFlags() map[string][]string {
	return map[string][]string{
		// API priority and fairness keeps per-flow-schema state and
		// background loops a test never needs; plain max-in-flight limits
		// are enough.
		"enable-priority-and-fairness": {"false"},
		"profiling":                    {"false"},
		// Groups meshfed never reads or writes; each served resource costs
		// a storage, a watch cache and OpenAPI. Core, apps, discovery,
		// coordination, rbac, networking, admissionregistration,
		// apiextensions, the aggregator, policy/v1 and autoscaling/v2 (the
		// waypoint's PodDisruptionBudget and HorizontalPodAutoscaler) stay on, and so do two groups
		// the API server itself needs: scheduling (the Priority admission
		// plugin reads PriorityClasses on every Pod create) and storage
		// (without it the informer-sync check of /readyz never passes).
		// WithAPIServerFlag("runtime-config", "api/all=true") serves
		// everything again.
		"runtime-config": {strings.Join(disabledGroups, ",")},
	}
}

// disabledGroups are turned off by apiServerFlags.
var disabledGroups = []string{
	"autoscaling/v1=false",
	"batch/v1=false",
	"certificates.k8s.io/v1=false",
	"flowcontrol.apiserver.k8s.io/v1=false",
	"resource.k8s.io/v1=false",
}

// configureAPIServer sets the framework's flags and then the caller's
// overrides on the API server's argument set.
func configureAPIServer(server *envtest.APIServer, overrides map[string][]string) {
	flags := apiServerFlags()
	maps.Copy(flags, overrides)
	args := server.Configure()
	for _, name := range slices.Sorted(maps.Keys(flags)) {
		args.Set(name, flags[name]...)
	}
}
