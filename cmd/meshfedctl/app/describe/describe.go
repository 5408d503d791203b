package describe

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/get"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/output"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/resource"
	"github.com/meshfed/meshfed/internal/cmdline"
)

type flags struct {
	cluster       *cli.ClusterFlags
	out           *output.Flags
	from          string
	etcdEndpoints []string
	etcdCAFile    string
	etcdCertFile  string
	etcdKeyFile   string
	waypoints     []string
}

// NewCommand returns the describe command.
func NewCommand(streams cli.Streams) *cobra.Command {
	f := &flags{cluster: cli.NewClusterFlags(), out: output.NewFlags()}
	cmd := &cobra.Command{
		Use:   "describe TYPE NAME",
		Short: "Show one global service, member cluster or segment in detail",
		Long: `Describe prints one object of the hub: ` + resource.Help() + `. A global service is
named by NAME with -n (default: the context's namespace) or as NAMESPACE/NAME. -o wide adds the
object's labels, annotations and creation time; -o yaml, json, name or jsonpath=… print the
object itself.

For a global service it shows the hostname, scope, type, ports with the waypoint port allocated
for each, traffic distribution, conflicts, conditions and the exporting clusters. With
--etcd-endpoints (the hub's federation store) it also lists every exporting cluster's endpoints
with their locality and health.

With --from CLUSTER[/ZONE] it shows the service as a waypoint in that cluster (network and region
from its MemberCluster, zone from the flag) would route it, computed by the waypoint's own table
builder: only the exports visible to that cluster, ranked into priority tiers by the service's
traffic distribution, and the share of requests each tier receives (Envoy's priority load, with
panic mode, and the service's load policy from meshfed.io/overprovisioning-factor,
meshfed.io/panic-threshold and meshfed.io/remote-endpoints, printed when it is not the default),
per port when the service has several. Endpoints on another network are routed through a waypoint of their cluster, as a
waypoint with HBONE credentials does; those without a waypoint address in the store, or without
a target port for the service port, are listed as not routed. Outlier ejections live in each
waypoint and are not included there.

With --waypoint URL (a waypoint's admin address, e.g. http://127.0.0.1:15021 after
kubectl port-forward deploy/meshfed-waypoint 15021) it reads that waypoint's /debug/endpoints and
shows how it routes the service right now: tier loads, and each endpoint's tier, health,
ejection, share of the traffic and tunnel.`,
		Example: `  meshfedctl describe gs web -n shop
  meshfedctl describe globalservice shop/web --etcd-endpoints http://127.0.0.1:2379 --from east-1/us-east-1a
  meshfedctl describe mc east-1 -o yaml`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: get.Complete(f.cluster),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), streams, args)
		},
	}
	fs := cmd.Flags()
	f.cluster.AddFlags(fs)
	f.out.AddFlags(cmd)
	fs.StringVar(&f.from, "from", "", "global services: show visibility, tiers and load split as seen from CLUSTER or CLUSTER/ZONE (needs --etcd-endpoints)")
	fs.StringSliceVar(&f.etcdEndpoints, "etcd-endpoints", nil, "global services: client URLs of the hub's federation store, for endpoint detail")
	fs.StringVar(&f.etcdCAFile, "etcd-ca-file", "", "CA bundle verifying the federation store")
	fs.StringVar(&f.etcdCertFile, "etcd-cert-file", "", "client certificate for the federation store")
	fs.StringVar(&f.etcdKeyFile, "etcd-key-file", "", "client key for the federation store")
	fs.StringSliceVar(&f.waypoints, "waypoint", nil, "global services: admin URLs of waypoints to show live routing from (their /debug/endpoints)")
	cli.RegisterCompletions(cmd, f.cluster)
	_ = cmd.RegisterFlagCompletionFunc("from", cli.CompleteMembers(func() (client.Client, error) {
		c, _, err := f.cluster.Client()
		return c, err
	}, false))
	return cmd
}

func (f *flags) run(ctx context.Context, streams cli.Streams, args []string) error {
	kind, key, err := f.parseArgs(args)
	if err != nil {
		return err
	}
	if err := f.out.Validate(); err != nil {
		return err
	}
	c, cfg, err := f.cluster.Client()
	if err != nil {
		return err
	}
	if key.Namespace == "" && kind.Namespaced {
		if key.Namespace, err = f.cluster.Namespace(); err != nil {
			return err
		}
	}
	obj := kind.NewObject()
	if err := c.Get(ctx, key, obj); err != nil {
		return fmt.Errorf("failed to get %s %s (hub %s): %w", kind.Noun, name(key), cfg.Host, err)
	}
	table, wide := f.out.Table()
	if !table {
		return f.out.Print(streams.Out, []client.Object{obj}, true)
	}
	if kind == resource.GlobalServices {
		return f.describeGlobalService(ctx, streams, c, obj, wide)
	}
	return writeText(streams.Out, obj, wide)
}

// parseArgs reads TYPE NAME (or TYPE NAMESPACE/NAME) and refuses flags of another kind.
func (f *flags) parseArgs(args []string) (*resource.Kind, types.NamespacedName, error) {
	switch len(args) {
	case 0:
		return nil, types.NamespacedName{}, cmdline.Usagef("missing resource type and name: want TYPE NAME, TYPE one of %s", resource.Help())
	case 1:
		if _, err := resource.Lookup(args[0]); err != nil {
			return nil, types.NamespacedName{}, err
		}
		return nil, types.NamespacedName{}, cmdline.Usagef("missing name: want %s NAME", args[0])
	case 2:
	default:
		return nil, types.NamespacedName{}, cmdline.Usagef("unexpected argument %q: describe takes TYPE NAME", args[2])
	}
	kind, err := resource.Lookup(args[0])
	if err != nil {
		return nil, types.NamespacedName{}, err
	}
	key, err := parseName(args[1], kind.Namespaced, f.cluster.NamespaceFlag())
	if err != nil {
		return nil, types.NamespacedName{}, err
	}
	if kind != resource.GlobalServices && (f.from != "" || len(f.etcdEndpoints) > 0 || len(f.waypoints) > 0) {
		return nil, types.NamespacedName{}, cmdline.Usagef("--from, --etcd-endpoints and --waypoint describe global services, not %s", kind.Plural)
	}
	return kind, key, nil
}

// parseName reads NAME or, for a namespaced kind, NAMESPACE/NAME; a namespace in the name
// must agree with -n.
func parseName(arg string, namespaced bool, nsFlag string) (types.NamespacedName, error) {
	ns, name, hasNS := strings.Cut(arg, "/")
	if !hasNS {
		ns, name = nsFlag, arg
	}
	switch {
	case name == "" || strings.Contains(name, "/") || (hasNS && ns == ""):
		return types.NamespacedName{}, cmdline.Usagef("invalid name %q: want NAME or NAMESPACE/NAME", arg)
	case hasNS && !namespaced:
		return types.NamespacedName{}, cmdline.Usagef("invalid name %q: this kind is not namespaced, want NAME", arg)
	case hasNS && nsFlag != "" && nsFlag != ns:
		return types.NamespacedName{}, cmdline.Usagef("namespace %q in %q and -n %q disagree", ns, arg, nsFlag)
	case !namespaced:
		ns = ""
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

func name(key types.NamespacedName) string {
	if key.Namespace == "" {
		return key.Name
	}
	return key.String()
}
