package unjoin

import (
	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
)

type flags struct {
	kube          cli.KubeFlags
	hubContext    string
	memberContext string
	hubNamespace  string
	hubOnly       bool
}

// NewCommand returns the unjoin command.
func NewCommand(streams cli.Streams) *cobra.Command {
	f := &flags{}
	cmd := &cobra.Command{
		Use:   "unjoin NAME --hub-context H --member-context M",
		Short: "Remove a member cluster from the hub, and what join created in it",
		Long: `Unjoin deletes the MemberCluster and its kubeconfig Secret on the hub, then the
ServiceAccount, RBAC and namespace join created in the member. Objects meshfed does not own are
kept and reported. With --hub-only (for a member that is gone) the member is not contacted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hubCfg, err := f.kube.RESTConfig(f.hubContext)
			if err != nil {
				return err
			}
			hub, err := membership.NewClient(hubCfg)
			if err != nil {
				return err
			}
			opts := membership.Options{Name: args[0], HubNamespace: f.hubNamespace}
			if f.hubOnly {
				return membership.Unjoin(cmd.Context(), hub, nil, opts, streams.Out)
			}
			memberCfg, err := f.kube.RESTConfig(f.memberContext)
			if err != nil {
				return err
			}
			memberClient, err := membership.NewClient(memberCfg)
			if err != nil {
				return err
			}
			return membership.Unjoin(cmd.Context(), hub, memberClient, opts, streams.Out)
		},
	}
	fs := cmd.Flags()
	f.kube.AddFlags(fs)
	fs.StringVar(&f.hubContext, "hub-context", "", "kubeconfig context of the hub cluster")
	fs.StringVar(&f.memberContext, "member-context", "", "kubeconfig context of the member cluster")
	fs.StringVar(&f.hubNamespace, "hub-namespace", wellknown.SystemNamespace, "hub namespace of member Secrets")
	fs.BoolVar(&f.hubOnly, "hub-only", false, "only clean up the hub (the member is unreachable or gone)")
	return cmd
}
