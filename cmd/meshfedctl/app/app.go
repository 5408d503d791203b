package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/internal/cmdline"
)

// Program names: meshfedctl, and the kubectl plugin (kubectl finds kubectl-meshfed on the PATH
// and runs it for `kubectl meshfed`).
const (
	Program = "meshfedctl"
	Plugin  = "kubectl-meshfed"
)

// Run executes meshfedctl with args (without the program name), writing to streams. Its
// error is a *cmdline.UsageError for a mistake in the command line.
func Run(ctx context.Context, streams cli.Streams, args []string) error {
	return RunAs(ctx, Program, streams, args)
}

// RunAs is Run under the name the binary was invoked by: as kubectl-meshfed, help and messages
// say "kubectl meshfed".
func RunAs(ctx context.Context, program string, streams cli.Streams, args []string) error {
	return cmdline.Execute(ctx, NewCommand(streams, program), args)
}

// NewCommand returns the root command with every subcommand attached.
func NewCommand(streams cli.Streams, program string) *cobra.Command {
	logs := cmdline.NewLogFlags(slog.LevelWarn)
	root := &cobra.Command{
		Use:   program,
		Short: "Federate Kubernetes Services across clusters with meshfed",
		Long: `meshfedctl joins clusters to a meshfed hub, deploys waypoints and inspects global services.
Installed as kubectl-meshfed on the PATH, it also runs as "kubectl meshfed".

Verbs that read the hub (status, get, describe) take kubectl's --kubeconfig, --context and -n;
verbs that talk to the hub and a member (join, unjoin, waypoint apply) take --hub-context and
--member-context.`,
		PersistentPreRun: func(*cobra.Command, []string) {
			// controller-runtime's client logs through its own logger; without one set it
			// prints a stack trace after 30 s.
			ctrl.SetLogger(logr.FromSlogHandler(logs.Logger(streams.ErrOut).Handler()))
		},
	}
	if program == Plugin {
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: strings.Replace(Plugin, "-", " ", 1)}
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	logs.AddFlags(root.PersistentFlags())
	for _, sub := range subcommands {
		root.AddCommand(sub(streams))
	}
	cmdline.Prepare(root)
	return root
}
