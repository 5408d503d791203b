package status

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
)

type flags struct {
	hub cli.HubFlags
}

// NewCommand returns the status command.
func NewCommand(streams cli.Streams) *cobra.Command {
	f := &flags{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the member clusters of the hub and whether they are connected and synced",
		Long: `Status lists every MemberCluster of the hub: whether the hub reaches it (Ready), its
network and segment, when the hub last merged its state, how many Services it exports and how
many global services it imports. For a cluster that is not ready or not synced, REASON gives the
condition's reason and message.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), streams)
		},
	}
	fs := cmd.Flags()
	f.hub.AddFlags(fs)
	return cmd
}

func (f *flags) run(ctx context.Context, streams cli.Streams) error {
	cfg, err := f.hub.RESTConfig()
	if err != nil {
		return err
	}
	hub, err := membership.NewClient(cfg)
	if err != nil {
		return err
	}
	var list meshfedv1.MemberClusterList
	if err := hub.List(ctx, &list); err != nil {
		return fmt.Errorf("failed to list member clusters %s: %w", cfg.Host, err)
	}
	if len(list.Items) == 0 {
		_, err := fmt.Fprintln(streams.ErrOut, "No member clusters joined to the hub.")
		return err
	}
	return writeTable(streams.Out, list.Items, time.Now())
}
