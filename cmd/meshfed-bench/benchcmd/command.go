package benchcmd

import (
	"context"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/meshfed/meshfed/internal/cmdline"
)

// Spec is one benchmark subcommand.
type Spec[R any] struct {
	Use, Short, Long string
	// AddFlags adds the benchmark's flags.
	AddFlags func(*pflag.FlagSet)
	// Validate bounds the flags once parsed; nil accepts any value. Its error is a usage error.
	Validate func() error
	// Run measures and returns the results.
	Run func(ctx context.Context) (R, error)
	// Print writes the results as the benchmark's table.
	Print func(io.Writer, R)
}

// New returns spec's subcommand, writing its table to out.
func New[R any](out io.Writer, spec Spec[R]) *cobra.Command {
	cmd := &cobra.Command{
		Use:   spec.Use,
		Short: spec.Short,
		Long:  spec.Long,
		Args:  cmdline.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if spec.Validate != nil {
				if err := spec.Validate(); err != nil {
					return cmdline.Usage(err)
				}
			}
			res, err := spec.Run(cmd.Context())
			if err != nil {
				return err
			}
			spec.Print(out, res)
			return nil
		},
	}
	spec.AddFlags(cmd.Flags())
	return cmd
}
