package app

import (
	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/ca"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
)

// subcommands lists the constructors of meshfedctl's subcommands, one package each.
var subcommands = []func(cli.Streams) *cobra.Command{
	ca.NewCommand,
}
