package app

import (
	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/ca"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/describe"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/get"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/join"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/status"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/unjoin"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/waypoint"
)

// subcommands lists the constructors of meshfedctl's subcommands, one package each.
var subcommands = []func(cli.Streams) *cobra.Command{
	ca.NewCommand,
	join.NewCommand,
	unjoin.NewCommand,
	status.NewCommand,
	get.NewCommand,
	describe.NewCommand,
	waypoint.NewCommand,
}
