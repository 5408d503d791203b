package app

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/internal/cmdline"
)

// NewCommand returns meshfed-dns's command line: its options as flags, the shared log flags,
// --version and a version subcommand.
func NewCommand() *cobra.Command {
	opts := DefaultOptions()
	return cmdline.NewServerCommand(cmdline.Server{
		Use:   "meshfed-dns",
		Short: "Answer the federation's names in one member cluster",
		Long: `meshfed-dns answers <name>.<ns>.<segment domain>, <name>.<ns>.svc.clusterset.local and, where
takeover is on, <name>.<ns>.svc.cluster.local from the ServiceImports the hub writes into its
cluster. The cluster's CoreDNS forwards those zones to it.`,
		AddFlags: opts.AddFlags,
		Validate: opts.Validate,
		Run: func(ctx context.Context, log *slog.Logger) error {
			return Run(ctx, opts, log)
		},
	})
}
