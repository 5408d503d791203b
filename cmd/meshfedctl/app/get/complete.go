package get

import (
	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/resource"
)

// Complete completes get's and describe's arguments: the resource types, then the names of
// objects of the chosen type read from the cluster the flags choose (in the -n namespace).
func Complete(cluster *cli.ClusterFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			var names []string
			for _, k := range resource.Kinds {
				names = append(names, k.Names()...)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		}
		kind, err := resource.Lookup(args[0])
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, _, err := cluster.Client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var opts []client.ListOption
		if kind.Namespaced {
			ns, err := cluster.Namespace()
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			opts = append(opts, client.InNamespace(ns))
		}
		objs, err := kind.List(cmd.Context(), c, opts...)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		names := make([]string, 0, len(objs))
		for _, obj := range objs {
			names = append(names, obj.GetName())
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}
