package unjoin

import (
	"errors"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/internal/cmdline"
)

type flags struct {
	pair         *cli.PairFlags
	hubNamespace string
	hubOnly      bool
}

// NewCommand returns the unjoin command.
func NewCommand(streams cli.Streams) *cobra.Command {
	f := &flags{pair: cli.NewPairFlags("unjoin")}
	cmd := &cobra.Command{
		Use:   "unjoin NAME --hub-context HUB --member-context MEMBER",
		Short: "Remove a member cluster from the hub, and what join created in it",
		Long: `Unjoin deletes the MemberCluster and its kubeconfig Secret on the hub, then releases what
join created in the member: it removes this join (NAME@HUB-CLUSTER-ID) from the
meshfed.io/owners annotation of the ServiceAccount, RBAC, namespace and ClusterProperty, and
deletes each only when no other join of the cluster (into another hub, or under another name)
still uses it. The ServiceImports and derived Services the hub wrote are removed only with the
cluster's last join. Objects meshfed does not own are kept and reported. A member context that
is not the cluster the member was joined as is refused before anything changes. With --hub-only
(for a member that is gone) the member is not contacted and --member-context is not needed.`,
		Args: cmdline.ExactArgs(1),
		ValidArgsFunction: func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return cli.CompleteMembers(f.pair.HubClient, false)(c, args, prefix)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := membership.Options{Name: args[0], HubNamespace: f.hubNamespace}
			if err := errors.Join(opts.Validate(), f.pair.Validate(!f.hubOnly)); err != nil {
				return cmdline.Usage(err)
			}
			hub, err := f.pair.HubClient()
			if err != nil {
				return err
			}
			var memberClient client.Client
			if !f.hubOnly {
				if memberClient, err = f.pair.MemberClient(); err != nil {
					return err
				}
			}
			return membership.Unjoin(cmd.Context(), hub, memberClient, opts, streams.Out)
		},
	}
	fs := cmd.Flags()
	f.pair.AddFlags(fs)
	cli.RegisterPairCompletions(cmd, f.pair)
	fs.StringVar(&f.hubNamespace, "hub-namespace", wellknown.SystemNamespace, "hub namespace of member Secrets")
	fs.BoolVar(&f.hubOnly, "hub-only", false, "only clean up the hub (the member is unreachable or gone)")
	return cmd
}
