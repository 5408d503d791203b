package cmdline

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Server describes the command line of a long-running meshfed program (the hub, a waypoint,
// meshfed-dns): a root command without subcommands of its own, its options as flags.
type Server struct {
	Use, Short, Long string
	// AddFlags adds the program's options to the command's flags.
	AddFlags func(*pflag.FlagSet)
	// Validate checks the options once the flags are parsed; its error is a usage error.
	Validate func() error
	// Run runs the program until ctx ends, logging to log.
	Run func(ctx context.Context, log *slog.Logger) error
}

// NewServerCommand returns s's prepared command: its flags, the shared log flags, --version and
// a version subcommand. Validate runs before Run; a Run that fails only because a signal ended
// ctx while it was starting counts as a clean stop.
func NewServerCommand(s Server) *cobra.Command {
	logs := NewLogFlags(slog.LevelInfo)
	cmd := &cobra.Command{
		Use:   s.Use,
		Short: s.Short,
		Long:  s.Long,
		Args:  NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := s.Validate(); err != nil {
				return Usage(err)
			}
			err := s.Run(c.Context(), logs.Logger(c.ErrOrStderr()))
			if c.Context().Err() != nil && errors.Is(err, context.Canceled) {
				return nil // stopped by a signal while starting
			}
			return err
		},
	}
	s.AddFlags(cmd.Flags())
	logs.AddFlags(cmd.Flags())
	cmd.CompletionOptions.DisableDefaultCmd = true
	Prepare(cmd)
	return cmd
}

// Main is a program's main: it executes root with the process's arguments under a context that
// SIGINT and SIGTERM cancel, prints what failed, and exits with Exit's code.
func Main(root *cobra.Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Execute(ctx, root, os.Args[1:])
	stop()
	os.Exit(Exit(os.Stderr, err))
}
