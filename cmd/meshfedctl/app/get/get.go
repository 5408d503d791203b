package get

import (
	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
)

// NewCommand returns the get command with its resource subcommands.
func NewCommand(streams cli.Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get RESOURCE",
		Short: "List meshfed resources of the hub",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newGlobalServicesCommand(streams))
	return cmd
}
