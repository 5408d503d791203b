package status

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/get"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/output"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/resource"
)

type flags struct {
	cluster *cli.ClusterFlags
	out     *output.Flags
}

// NewCommand returns the status command.
func NewCommand(streams cli.Streams) *cobra.Command {
	f := &flags{cluster: cli.NewClusterFlags(), out: output.NewFlags()}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the member clusters of the hub and whether they are connected and synced",
		Long: `Status lists every MemberCluster of the hub: whether the hub reaches it (READY), its
network and segment, when the hub last merged its state, how many Services it exports and how
many global services it imports. For a cluster that is not ready or not synced, REASON gives the
condition's reason and message. -o wide adds the region and the kubeconfig Secret; -o json
prints the MemberCluster objects as a List (what kubectl get memberclusters -o json prints).`,
		Example: `  meshfedctl status --context kind-hub
  kubectl meshfed status -o json | jq -r '.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True") | not) | .metadata.name'`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), streams)
		},
	}
	f.cluster.AddFlags(cmd.Flags())
	f.out.AddFlags(cmd)
	cli.RegisterCompletions(cmd, f.cluster)
	return cmd
}

func (f *flags) run(ctx context.Context, streams cli.Streams) error {
	if err := f.out.Validate(); err != nil {
		return err
	}
	c, cfg, err := f.cluster.Client()
	if err != nil {
		return err
	}
	objs, err := resource.MemberClusters.List(ctx, c)
	if err != nil {
		return fmt.Errorf("%w (hub %s)", err, cfg.Host)
	}
	if len(objs) == 0 {
		_, err := fmt.Fprintln(streams.ErrOut, "No member clusters joined to the hub.")
		return err
	}
	return get.Print(streams, f.out, resource.MemberClusters, objs, get.PrintOptions{})
}
