// Command meshfed-waypoint runs a namespace's waypoint: it follows the federation store and
// balances connections to the namespace's global services by locality tiers, reaching
// endpoints on other networks through HBONE tunnels to their cluster's waypoints and serving
// HBONE for the waypoints of other networks (with --cert-file, --key-file and --ca-file).
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

	"github.com/meshfed/meshfed/cmd/meshfed-waypoint/app"
	"github.com/meshfed/meshfed/internal/version"
)

func main() {
	opts := app.DefaultOptions(os.Getenv)
	fs := pflag.NewFlagSet("meshfed-waypoint", pflag.ContinueOnError)
	opts.AddFlags(fs)
	showVersion := fs.Bool("version", false, "Print the version, commit and Go release, and exit.")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	if *showVersion {
		fmt.Println(version.String("meshfed-waypoint"))
		return
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
