// Command meshfed-waypoint runs a namespace's waypoint: it follows the federation store and
// balances connections to the namespace's global services by locality tiers, reaching
// endpoints on other networks through HBONE tunnels to their cluster's waypoints and serving
// HBONE for the waypoints of other networks (with --cert-file, --key-file and --ca-file).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/meshfed/meshfed/cmd/meshfed-waypoint/app"
	"github.com/meshfed/meshfed/internal/cmdline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cmdline.Execute(ctx, app.NewCommand(os.Getenv), os.Args[1:])
	stop()
	os.Exit(cmdline.Exit(os.Stderr, err))
}
