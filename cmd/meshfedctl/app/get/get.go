package get

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/output"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/resource"
	"github.com/meshfed/meshfed/internal/cmdline"
)

type flags struct {
	cluster       *cli.ClusterFlags
	out           *output.Flags
	allNamespaces bool
	selector      string
}

// NewCommand returns the get command.
func NewCommand(streams cli.Streams) *cobra.Command {
	f := &flags{cluster: cli.NewClusterFlags(), out: output.NewFlags()}
	cmd := &cobra.Command{
		Use:   "get TYPE [NAME...]",
		Short: "List global services, member clusters or segments of the hub",
		Long: `Get lists the hub's objects of one type: ` + resource.Help() + `.

Global services are namespaced: without -n or -A, the namespace of the kubeconfig context is
used, as kubectl does. The table shows, for a global service, the hostname clients use, the
widest scope of any export, the exporting clusters, ready/total endpoints and the first conflict
between exports; -o wide adds the type, traffic distribution, ports with their waypoint ports
and every exporting and importing cluster. -o yaml, json, name or jsonpath=… print the objects.`,
		Example: `  meshfedctl get gs -A
  meshfedctl get globalservice web -n shop -o yaml
  meshfedctl get mc -o jsonpath='{.items[*].metadata.name}'`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: Complete(f.cluster),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), streams, args)
		},
	}
	f.cluster.AddFlags(cmd.Flags())
	f.out.AddFlags(cmd)
	cmd.Flags().BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "list global services of every namespace")
	cmd.Flags().StringVarP(&f.selector, "selector", "l", "", "label selector, e.g. app=web")
	cli.RegisterCompletions(cmd, f.cluster)
	return cmd
}

func (f *flags) run(ctx context.Context, streams cli.Streams, args []string) error {
	if len(args) == 0 {
		return cmdline.Usagef("missing resource type: want one of %s", resource.Help())
	}
	kind, err := resource.Lookup(args[0])
	if err != nil {
		return err
	}
	names := args[1:]
	sel, err := labels.Parse(f.selector)
	switch {
	case err != nil:
		return cmdline.Usagef("invalid --selector %q: %w", f.selector, err)
	case f.allNamespaces && f.cluster.NamespaceFlag() != "":
		return cmdline.Usagef("--namespace and --all-namespaces exclude each other")
	case f.allNamespaces && len(names) > 0:
		return cmdline.Usagef("a NAME and --all-namespaces exclude each other: a name is looked up in one namespace")
	}
	if err := f.out.Validate(); err != nil {
		return err
	}
	c, cfg, err := f.cluster.Client()
	if err != nil {
		return err
	}
	ns := ""
	if kind.Namespaced && !f.allNamespaces {
		if ns, err = f.cluster.Namespace(); err != nil {
			return err
		}
	}
	objs, err := fetch(ctx, c, kind, ns, names, client.MatchingLabelsSelector{Selector: sel})
	if err != nil {
		return fmt.Errorf("%w (hub %s)", err, cfg.Host)
	}
	if len(objs) == 0 {
		_, err := fmt.Fprintln(streams.ErrOut, NoneFound(kind, ns))
		return err
	}
	return Print(streams, f.out, kind, objs, PrintOptions{AllNamespaces: f.allNamespaces, Single: len(names) == 1})
}

// fetch gets the named objects, or lists the kind in ns ("" for every namespace).
func fetch(ctx context.Context, c client.Client, kind *resource.Kind, ns string, names []string, sel client.ListOption) ([]client.Object, error) {
	if len(names) == 0 {
		var opts []client.ListOption
		if ns != "" {
			opts = append(opts, client.InNamespace(ns))
		}
		return kind.List(ctx, c, append(opts, sel)...)
	}
	objs := make([]client.Object, 0, len(names))
	for _, name := range names {
		obj := kind.NewObject()
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("%s %q not found%s", kind.Noun, name, inNamespace(kind, ns))
			}
			return nil, fmt.Errorf("failed to get %s %s: %w", kind.Noun, name, err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// PrintOptions say how a listing was asked for.
type PrintOptions struct {
	// AllNamespaces adds the NAMESPACE column.
	AllNamespaces bool
	// Single prints one object alone (not as a List) in object formats.
	Single bool
}

// Print writes objs of kind as the -o flag asks: a table (wide or not) or the objects.
func Print(streams cli.Streams, out *output.Flags, kind *resource.Kind, objs []client.Object, o PrintOptions) error {
	if table, wide := out.Table(); table {
		return kind.WriteTable(streams.Out, objs, resource.TableOptions{Wide: wide, WithNamespace: o.AllNamespaces, Now: time.Now()})
	}
	return out.Print(streams.Out, objs, o.Single)
}

// NoneFound is what get says, on stderr, when nothing matched.
func NoneFound(kind *resource.Kind, ns string) string {
	return fmt.Sprintf("No %ss found%s.", kind.Noun, inNamespace(kind, ns))
}

func inNamespace(kind *resource.Kind, ns string) string {
	if !kind.Namespaced || ns == "" {
		return ""
	}
	return " in namespace " + ns
}
