package join

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/internal/cmdline"
)

type flags struct {
	pair         *cli.PairFlags
	memberServer string
	network      string
	region       string
	segment      string
	hubNamespace string
	tokenTTL     time.Duration
	dryRun       bool
	force        bool
}

// NewCommand returns the join command.
func NewCommand(streams cli.Streams) *cobra.Command {
	f := &flags{pair: cli.NewPairFlags("join")}
	cmd := &cobra.Command{
		Use:   "join NAME --hub-context HUB --member-context MEMBER --network NETWORK",
		Short: "Join a member cluster to the hub",
		Long: `Join creates, in the member cluster, the namespace meshfed-system, a ServiceAccount
with least-privilege RBAC (read Services, EndpointSlices, Nodes, Namespaces and ServiceExports;
write ServiceImports, derived Services and Events) and a token for it; and, on the hub, a Secret
holding a kubeconfig for that ServiceAccount (never your own credentials) and the MemberCluster.
It checks that the hub's credentials reach the member. Running it again changes nothing while the
stored credentials still work.

One cluster is joined once: join reads the member's cluster ID (the UID of its kube-system
namespace), records it on the MemberCluster, and refuses a cluster the hub already has under
another name. It writes the MCS ClusterProperty cluster.clusterset.k8s.io with that ID into the
member when the member serves the ClusterProperty API and has none (an existing value is kept,
and reported when it differs). Joining an existing member again with another --network or
--segment, or pointing its name at another cluster, is refused unless --force; a forced change
is printed and recorded as a Warning Event (reason ForcedChange) on the MemberCluster.

The objects join writes into a member list the joins using them in the annotation
meshfed.io/owners (NAME@HUB-CLUSTER-ID), so that the same cluster can be joined into several
hubs and unjoin deletes only what no other join still uses.

NAME, --network and --segment must be DNS-1123 labels; they are checked before anything is
written. --hub-context and --member-context name the two clusters in one kubeconfig.`,
		Example: `  meshfedctl join east-1 --hub-context kind-hub --member-context kind-east-1 \
    --network net-a --member-server https://east-1-control-plane:6443`,
		Args: cmdline.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd, streams, args[0])
		},
	}
	fs := cmd.Flags()
	f.pair.AddFlags(fs)
	cli.RegisterPairCompletions(cmd, f.pair)
	fs.StringVar(&f.memberServer, "member-server", "", "member API server URL as the hub reaches it (default: the member context's server)")
	fs.StringVar(&f.network, "network", "", "network of the member's pods (required)")
	fs.StringVar(&f.region, "region", "", "region for endpoints on Nodes without a region label")
	fs.StringVar(&f.segment, "segment", wellknown.DefaultSegment, "segment the member belongs to")
	fs.StringVar(&f.hubNamespace, "hub-namespace", wellknown.SystemNamespace, "hub namespace of member Secrets")
	fs.DurationVar(&f.tokenTTL, "token-ttl", 365*24*time.Hour, "lifetime of the member token; join again to renew it")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the objects as YAML instead of creating them")
	fs.BoolVar(&f.force, "force", false, "let a join move an existing member to another network or segment, or to another cluster")
	return cmd
}

func (f *flags) run(cmd *cobra.Command, streams cli.Streams, name string) error {
	opts := membership.Options{Name: name, Network: f.network, Region: f.region, Segment: f.segment, HubNamespace: f.hubNamespace, Force: f.force}
	if err := f.validate(opts); err != nil {
		return cmdline.Usage(err)
	}
	if f.dryRun {
		return printYAML(streams, opts)
	}
	hubCfg, err := f.pair.Hub()
	if err != nil {
		return err
	}
	memberCfg, err := f.pair.Member()
	if err != nil {
		return err
	}
	hub, err := membership.NewClient(hubCfg)
	if err != nil {
		return err
	}
	memberClient, err := membership.NewClient(memberCfg)
	if err != nil {
		return err
	}
	sides := membership.Sides{
		Hub: hub, Member: memberClient, MemberConfig: memberCfg, MemberServer: f.memberServer,
		TokenTTL: f.tokenTTL, VerifyTimeout: 30 * time.Second,
	}
	return membership.Join(cmd.Context(), sides, opts, streams.Out)
}

// validate checks the line before any cluster is contacted: the names join writes, and both
// contexts (not needed for --dry-run, which contacts none).
func (f *flags) validate(opts membership.Options) error {
	var errs []error
	if opts.Network == "" {
		errs = append(errs, errors.New("missing --network: the network of the member's pods"))
	}
	errs = append(errs, opts.Validate())
	if !f.dryRun {
		errs = append(errs, f.pair.Validate(true))
	}
	return errors.Join(errs...)
}

func printYAML(streams cli.Streams, opts membership.Options) error {
	kc, err := membership.Kubeconfig(opts.Name, "https://MEMBER-API-SERVER", nil, false, "TOKEN-ISSUED-AT-JOIN")
	if err != nil {
		return err
	}
	scheme, err := membership.Scheme()
	if err != nil {
		return err
	}
	fmt.Fprintln(streams.Out, "# member cluster")
	for _, obj := range membership.MemberObjects() {
		if err := writeDoc(streams, scheme, obj); err != nil {
			return err
		}
	}
	fmt.Fprintln(streams.Out, "# hub cluster")
	for _, obj := range membership.HubObjects(opts, kc) {
		if err := writeDoc(streams, scheme, obj); err != nil {
			return err
		}
	}
	return nil
}

func writeDoc(streams cli.Streams, scheme *runtime.Scheme, obj client.Object) error {
	if err := membership.SetKind(obj, scheme); err != nil {
		return err
	}
	b, err := yaml.Marshal(obj)
	if err != nil {
		return fmt.Errorf("failed to render YAML: %w", err)
	}
	_, err = fmt.Fprintf(streams.Out, "---\n%s", b)
	return err
}
