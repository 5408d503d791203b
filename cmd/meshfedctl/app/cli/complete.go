package cli

import (
	"slices"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
)

// RegisterCompletions completes --context from the kubeconfig and -n from the namespaces of
// the cluster the flags choose.
func RegisterCompletions(cmd *cobra.Command, f *ClusterFlags) {
	_ = cmd.RegisterFlagCompletionFunc("context", CompleteContexts(f.Contexts))
	_ = cmd.RegisterFlagCompletionFunc("namespace", func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		cl, _, err := f.Client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var list corev1.NamespaceList
		if err := cl.List(c.Context(), &list); err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		names := make([]string, 0, len(list.Items))
		for _, ns := range list.Items {
			names = append(names, ns.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
}

// RegisterPairCompletions completes --hub-context and --member-context from the kubeconfig.
func RegisterPairCompletions(cmd *cobra.Command, f *PairFlags) {
	for _, name := range []string{"hub-context", "member-context"} {
		_ = cmd.RegisterFlagCompletionFunc(name, CompleteContexts(f.Contexts))
	}
}

// CompleteMembers completes with the hub's member clusters, by name (or, with network, by
// network), reading the hub through hub.
func CompleteMembers(hub func() (client.Client, error), network bool) cobra.CompletionFunc {
	return func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		cl, err := hub()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var list meshfedv1.MemberClusterList
		if err := cl.List(c.Context(), &list); err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var names []string
		for _, m := range list.Items {
			name := m.Name
			if network {
				name = m.Spec.Network
			}
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// HubClient returns a client of the hub the pair flags name.
func (f *PairFlags) HubClient() (client.Client, error) {
	cfg, err := f.Hub()
	if err != nil {
		return nil, err
	}
	return newClient(cfg)
}

// MemberClient returns a client of the member the pair flags name.
func (f *PairFlags) MemberClient() (client.Client, error) {
	cfg, err := f.Member()
	if err != nil {
		return nil, err
	}
	return newClient(cfg)
}
