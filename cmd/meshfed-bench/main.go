// Command meshfed-bench runs meshfed's benchmarks on the local machine and prints tables;
// each benchmark is a subcommand in its own package.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/meshfed/meshfed/cmd/meshfed-bench/hbonebench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	root := &cobra.Command{Use: "meshfed-bench", Short: "Benchmarks of meshfed components", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(hbonebench.NewCommand(os.Stdout))
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
