// Command meshfed-hub runs the meshfed hub: it joins member clusters, merges their exports into
// global services and publishes them through the federation store.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/meshfed/meshfed/cmd/meshfed-hub/app"
	"github.com/meshfed/meshfed/internal/cmdline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cmdline.Execute(ctx, app.NewCommand(), os.Args[1:])
	stop()
	os.Exit(cmdline.Exit(os.Stderr, err))
}
