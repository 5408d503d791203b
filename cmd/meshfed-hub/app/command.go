package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/meshfed/meshfed/internal/cmdline"
)

// NewCommand returns the hub's command line: its options as flags, the shared log flags,
// --version and a version subcommand. Running it sets controller-runtime's logger before
// anything else, so no library falls back to its own complaint.
func NewCommand() *cobra.Command {
	opts := DefaultOptions()
	logs := cmdline.NewLogFlags(slog.LevelInfo)
	cmd := &cobra.Command{
		Use:   "meshfed-hub",
		Short: "Run the meshfed hub",
		Long: `meshfed-hub joins member clusters, merges the Services they export into global services and
publishes them through the federation store (an embedded etcd by default, --etcd-endpoints for an
external one). It needs a kubeconfig of the hub cluster (in a pod, its service account) and the
namespace --namespace there.`,
		Args: cmdline.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := opts.Validate(); err != nil {
				return cmdline.Usage(err)
			}
			log := logs.Logger(c.ErrOrStderr())
			ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
			err := Run(c.Context(), opts, log)
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
