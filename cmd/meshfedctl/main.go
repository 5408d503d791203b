// Command meshfedctl joins clusters to a meshfed hub, deploys waypoints and inspects global
// services. Installed (or linked) as kubectl-meshfed, it is the kubectl plugin `kubectl meshfed`.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/internal/cmdline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	program := app.Program
	if filepath.Base(os.Args[0]) == app.Plugin {
		program = app.Plugin
	}
	err := app.RunAs(ctx, program, cli.StandardStreams(), os.Args[1:])
	stop()
	os.Exit(cmdline.Exit(os.Stderr, err))
}
