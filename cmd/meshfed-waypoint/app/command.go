package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/internal/cmdline"
)

// NewCommand returns the waypoint's command line: its options as flags (defaults from the
// environment through getenv, os.Getenv in main), the shared log flags, --version and a
// version subcommand.
func NewCommand(getenv func(string) string) *cobra.Command {
	opts := DefaultOptions(getenv)
	logs := cmdline.NewLogFlags(slog.LevelInfo)
	cmd := &cobra.Command{
		Use:   "meshfed-waypoint",
		Short: "Run a namespace's meshfed waypoint",
		Long: `meshfed-waypoint follows the federation store for one namespace and balances connections to
its global services by locality tiers, reaching endpoints on other networks through HBONE tunnels
to their cluster's waypoints and serving HBONE for the waypoints of other networks (with
--cert-file, --key-file and --ca-file). Every flag has an environment variable, named in its help.`,
		Args: cmdline.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := opts.Validate(); err != nil {
				return cmdline.Usage(err)
			}
			err := Run(c.Context(), opts, logs.Logger(c.ErrOrStderr()))
			if c.Context().Err() != nil && errors.Is(err, context.Canceled) {
				return nil // stopped by a signal while starting
			}
			return err
		},
	}
	opts.AddFlags(cmd.Flags())
	logs.AddFlags(cmd.Flags())
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmdline.Prepare(cmd)
	return cmd
}
