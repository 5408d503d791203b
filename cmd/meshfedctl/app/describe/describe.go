package describe

import (
	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
)

// NewCommand returns the describe command with its resource subcommands.
func NewCommand(streams cli.Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe RESOURCE",
		Short: "Show details of a meshfed resource",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newGlobalServiceCommand(streams))
	return cmd
}
