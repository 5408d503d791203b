// Command meshfedctl joins clusters to a meshfed hub, deploys waypoints and inspects global
// services.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, cli.StandardStreams(), os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
