// Command meshfed-dns answers the federation's names in one member cluster:
// <name>.<ns>.<segment domain>, <name>.<ns>.svc.clusterset.local and, where takeover is on,
// <name>.<ns>.svc.cluster.local, from the ServiceImports the hub writes into that cluster. The
// cluster's CoreDNS forwards those zones to it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/meshfed/meshfed/cmd/meshfed-dns/app"
	"github.com/meshfed/meshfed/internal/cmdline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cmdline.Execute(ctx, app.NewCommand(), os.Args[1:])
	stop()
	os.Exit(cmdline.Exit(os.Stderr, err))
}
