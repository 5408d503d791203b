package app

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
)

// Run executes meshfedctl with args (without the program name), writing to streams.
func Run(ctx context.Context, streams cli.Streams, args []string) error {
	root := NewCommand(streams)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// NewCommand returns the root command with every subcommand attached.
func NewCommand(streams cli.Streams) *cobra.Command {
	root := &cobra.Command{
		Use:           "meshfedctl",
		Short:         "Federate Kubernetes Services across clusters with meshfed",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	for _, sub := range subcommands {
		root.AddCommand(sub(streams))
	}
	return root
}
