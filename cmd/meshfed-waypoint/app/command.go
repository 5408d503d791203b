package app

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/internal/cmdline"
)

// NewCommand returns the waypoint's command line: its options as flags (defaults from the
// environment through getenv, os.Getenv in main), the shared log flags, --version and a
// version subcommand.
func NewCommand(getenv func(string) string) *cobra.Command {
	opts := DefaultOptions(getenv)
	return cmdline.NewServerCommand(cmdline.Server{
		Use:   "meshfed-waypoint",
		Short: "Run a namespace's meshfed waypoint, or a cluster's shared gateway",
		Long: `meshfed-waypoint follows the federation store for one namespace and balances connections to
its global services by locality tiers, reaching endpoints on other networks through HBONE tunnels
to their cluster's waypoints and serving HBONE for the waypoints of other networks (with
--cert-file, --key-file and --ca-file). With --gateway-namespaces it is the cluster's shared
gateway instead: it does the same for each namespace listed (with '*', each namespace its store
record lists, as the hub changes it), through one HBONE address, as meshfed-gateway of
--namespace. Every flag has an environment variable, named in its help.`,
		AddFlags: opts.AddFlags,
		Validate: opts.Validate,
		Run: func(ctx context.Context, log *slog.Logger) error {
			return Run(ctx, opts, log)
		},
	})
}
