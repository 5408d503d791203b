// Package cli holds what every meshfedctl subcommand shares: the IO streams a command writes
// to (so commands are testable with buffers) and the kubeconfig flags that choose the clusters
// it talks to, on k8s.io/cli-runtime's ConfigFlags as kubectl plugins do.
//
// A verb that talks to one cluster takes kubectl's flags (--kubeconfig, --context, -n and the
// credential overrides). A verb that talks to the hub and a member (join, unjoin, waypoint
// apply) names both: --hub-context and --member-context, with one --kubeconfig; it refuses
// --context rather than guess which cluster it means.
package cli
