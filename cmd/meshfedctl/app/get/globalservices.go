package get

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
)

type globalServicesFlags struct {
	hub           cli.HubFlags
	namespace     string
	allNamespaces bool
}

// newGlobalServicesCommand returns `get globalservices`.
func newGlobalServicesCommand(streams cli.Streams) *cobra.Command {
	f := &globalServicesFlags{}
	cmd := &cobra.Command{
		Use:     "globalservices [-A | -n NAMESPACE]",
		Aliases: []string{"globalservice", "gsvc"},
		Short:   "List the hub's global services",
		Long: `Lists the GlobalService objects the hub keeps for every merged global service: the
hostname clients use, the widest scope of any export, the exporting clusters, ready/total
endpoints and the first conflict between exports (none when every export agrees). Without -n or
-A, the namespace of the kubeconfig context is used, as kubectl does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), streams)
		},
	}
	fs := cmd.Flags()
	f.hub.AddFlags(fs)
	fs.StringVarP(&f.namespace, "namespace", "n", "", "namespace to list (default: the context's namespace)")
	fs.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "list global services of every namespace")
	return cmd
}

func (f *globalServicesFlags) run(ctx context.Context, streams cli.Streams) error {
	if f.allNamespaces && f.namespace != "" {
		return fmt.Errorf("failed to parse flags: --namespace and --all-namespaces exclude each other")
	}
	cfg, err := f.hub.RESTConfig()
	if err != nil {
		return err
	}
	hub, err := membership.NewClient(cfg)
	if err != nil {
		return err
	}
	var opts []client.ListOption
	ns := f.namespace
	if !f.allNamespaces {
		if ns == "" {
			if ns, err = f.hub.Namespace(f.hub.Context); err != nil {
				return err
			}
		}
		opts = append(opts, client.InNamespace(ns))
	}
	var list meshfedv1.GlobalServiceList
	if err := hub.List(ctx, &list, opts...); err != nil {
		return fmt.Errorf("failed to list global services %s: %w", cfg.Host, err)
	}
	if len(list.Items) == 0 {
		_, err := fmt.Fprintln(streams.ErrOut, noneFound(ns, f.allNamespaces))
		return err
	}
	return writeTable(streams.Out, list.Items)
}

func noneFound(ns string, all bool) string {
	if all {
		return "No global services found."
	}
	return fmt.Sprintf("No global services found in namespace %s.", ns)
}
