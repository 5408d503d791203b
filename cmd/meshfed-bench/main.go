// Command meshfed-bench runs meshfed's benchmarks on the local machine and prints tables;
// each benchmark is a subcommand in its own package.
package main

import (
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/dnsbench"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/hbonebench"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/peersbench"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/waypointbench"
	"github.com/meshfed/meshfed/internal/cmdline"
)

func main() { cmdline.Main(newCommand()) }

// newCommand is meshfed-bench's command tree: one subcommand per benchmark, the shared log
// flags (progress goes to stderr), --version and version.
func newCommand() *cobra.Command {
	logs := cmdline.NewLogFlags(slog.LevelInfo)
	// The subcommands keep this pointer; its logger is set once the flags are parsed.
	log := slog.New(slog.DiscardHandler)
	root := &cobra.Command{
		Use:   "meshfed-bench",
		Short: "Benchmarks of meshfed components",
		PersistentPreRun: func(c *cobra.Command, _ []string) {
			*log = *logs.Logger(c.ErrOrStderr())
		},
	}
	logs.AddFlags(root.PersistentFlags())
	root.AddCommand(hbonebench.NewCommand(os.Stdout), waypointbench.NewCommand(os.Stdout, log), peersbench.NewCommand(os.Stdout, log), dnsbench.NewCommand(os.Stdout, log))
	root.CompletionOptions.DisableDefaultCmd = true
	cmdline.Prepare(root)
	return root
}
