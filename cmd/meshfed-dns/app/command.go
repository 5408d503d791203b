package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/internal/cmdline"
)

// NewCommand returns meshfed-dns's command line: its options as flags, the shared log flags,
// --version and a version subcommand.
func NewCommand() *cobra.Command {
	opts := DefaultOptions()
	logs := cmdline.NewLogFlags(slog.LevelInfo)
	cmd := &cobra.Command{
		Use:   "meshfed-dns",
		Short: "Answer the federation's names in one member cluster",
		Long: `meshfed-dns answers <name>.<ns>.<segment domain>, <name>.<ns>.svc.clusterset.local and, where
takeover is on, <name>.<ns>.svc.cluster.local from the ServiceImports the hub writes into its
cluster. The cluster's CoreDNS forwards those zones to it.`,
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
