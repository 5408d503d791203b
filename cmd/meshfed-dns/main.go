// Command meshfed-dns answers the federation's names in one member cluster:
// <name>.<ns>.<segment domain>, <name>.<ns>.svc.clusterset.local and, where takeover is on,
// <name>.<ns>.svc.cluster.local, from the ServiceImports the hub writes into that cluster. The
// cluster's CoreDNS forwards those zones to it.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/meshfed/meshfed/cmd/meshfed-dns/app"
)

func main() {
	opts := app.DefaultOptions()
	fs := pflag.NewFlagSet("meshfed-dns", pflag.ContinueOnError)
	opts.AddFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: opts.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, opts, log)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
