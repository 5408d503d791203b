package app

import (
	"context"
	"log/slog"
	"os"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/meshfed/meshfed/internal/cmdline"
	"github.com/meshfed/meshfed/internal/memlimit"
)

// NewCommand returns the hub's command line: its options as flags, the shared log flags,
// --version and a version subcommand. Running it sets controller-runtime's logger before
// anything else, so no library falls back to its own complaint.
func NewCommand() *cobra.Command {
	opts := DefaultOptions()
	return cmdline.NewServerCommand(cmdline.Server{
		Use:   "meshfed-hub",
		Short: "Run the meshfed hub",
		Long: `meshfed-hub joins member clusters, merges the Services they export into global services and
publishes them through the federation store (an embedded etcd by default, --etcd-endpoints for an
external one). It needs a kubeconfig of the hub cluster (in a pod, its service account) and the
namespace --namespace there.`,
		AddFlags: opts.AddFlags,
		Validate: opts.Validate,
		Run: func(ctx context.Context, log *slog.Logger) error {
			ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
			setMemoryLimit(log)
			return Run(ctx, opts, log)
		},
	})
}

// setMemoryLimit gives the Go heap a soft limit of three quarters of the container's memory
// limit, unless GOMEMLIMIT is set (internal/memlimit): the first pass of a large federation
// would otherwise let garbage grow the heap past a limit its live data fits in.
func setMemoryLimit(log *slog.Logger) {
	soft, err := memlimit.Set("/sys/fs/cgroup", os.Getenv)
	switch {
	case err != nil:
		log.Warn("Go memory limit not set from the container's", "error", err)
	case soft > 0:
		log.Info("Go memory limit set from the container's", "bytes", soft)
	}
}
