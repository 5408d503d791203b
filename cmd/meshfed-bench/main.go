// Command meshfed-bench runs meshfed's benchmarks on the local machine and prints tables;
// each benchmark is a subcommand in its own package.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/dnsbench"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/hbonebench"
	"github.com/meshfed/meshfed/cmd/meshfed-bench/waypointbench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	root := &cobra.Command{Use: "meshfed-bench", Short: "Benchmarks of meshfed components", SilenceUsage: true, SilenceErrors: true}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	root.AddCommand(hbonebench.NewCommand(os.Stdout), waypointbench.NewCommand(os.Stdout, log), dnsbench.NewCommand(os.Stdout, log))
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
