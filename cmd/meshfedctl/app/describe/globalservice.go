package describe

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/federation/store"
)

type globalServiceFlags struct {
	hub           cli.HubFlags
	from          string
	etcdEndpoints []string
	etcdCAFile    string
	etcdCertFile  string
	etcdKeyFile   string
	waypoints     []string
}

// newGlobalServiceCommand returns `describe globalservice`.
func newGlobalServiceCommand(streams cli.Streams) *cobra.Command {
	f := &globalServiceFlags{}
	cmd := &cobra.Command{
		Use:     "globalservice NAMESPACE/NAME [--etcd-endpoints URL,…] [--from CLUSTER[/ZONE]]",
		Aliases: []string{"globalservices", "gsvc"},
		Short:   "Show one global service: ports, conflicts, conditions, endpoints and priority tiers",
		Long: `Describe prints the hub's GlobalService object: hostname, scope, type, ports with the
waypoint port allocated for each, traffic distribution, conflicts, conditions and the exporting
clusters. With --etcd-endpoints (the hub's federation store) it also lists every exporting
cluster's endpoints with their locality and health.

With --from CLUSTER[/ZONE] it shows the service as a waypoint in that cluster (network and region
from its MemberCluster, zone from the flag) would route it: only the exports visible to that
cluster, ranked into priority tiers by the service's traffic distribution, and the share of
requests each tier receives (Envoy's priority load, with panic mode). Outlier ejections live in
each waypoint and are not included there.

With --waypoint URL (a waypoint's admin address, e.g. http://127.0.0.1:15021 after
kubectl port-forward deploy/meshfed-waypoint 15021) it reads that waypoint's /debug/endpoints and
shows how it routes the service right now: tier loads, and each endpoint's tier, health,
ejection, share of the traffic and tunnel.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), streams, args[0])
		},
	}
	fs := cmd.Flags()
	f.hub.AddFlags(fs)
	fs.StringVar(&f.from, "from", "", "show visibility, tiers and load split as seen from CLUSTER or CLUSTER/ZONE (needs --etcd-endpoints)")
	fs.StringSliceVar(&f.etcdEndpoints, "etcd-endpoints", nil, "client URLs of the hub's federation store, for endpoint detail")
	fs.StringVar(&f.etcdCAFile, "etcd-ca-file", "", "CA bundle verifying the federation store")
	fs.StringVar(&f.etcdCertFile, "etcd-cert-file", "", "client certificate for the federation store")
	fs.StringVar(&f.etcdKeyFile, "etcd-key-file", "", "client key for the federation store")
	fs.StringSliceVar(&f.waypoints, "waypoint", nil, "admin URLs of waypoints to show live routing from (their /debug/endpoints)")
	return cmd
}

func (f *globalServiceFlags) run(ctx context.Context, streams cli.Streams, arg string) error {
	key, err := parseName(arg)
	if err != nil {
		return err
	}
	var from *viewpoint
	if f.from != "" {
		if len(f.etcdEndpoints) == 0 {
			return fmt.Errorf("failed to describe global service %s: --from needs the federation store (--etcd-endpoints)", key)
		}
		vp, err := parseViewpoint(f.from)
		if err != nil {
			return err
		}
		from = &vp
	}
	cfg, err := f.hub.RESTConfig()
	if err != nil {
		return err
	}
	hub, err := membership.NewClient(cfg)
	if err != nil {
		return err
	}
	var gs meshfedv1.GlobalService
	if err := hub.Get(ctx, key, &gs); err != nil {
		return fmt.Errorf("failed to get global service %s: %w", key, err)
	}
	var mc *meshfedv1.MemberCluster
	if from != nil {
		if mc, err = memberCluster(ctx, hub, from.Cluster); err != nil {
			return err
		}
	}
	if err := writeObject(streams.Out, &gs); err != nil {
		return err
	}
	if len(f.etcdEndpoints) == 0 {
		if _, err := fmt.Fprintln(streams.Out, "Endpoints: <not shown: endpoint detail needs the federation store, pass --etcd-endpoints (the hub's store)>"); err != nil {
			return err
		}
	} else if err := f.describeFromStore(ctx, streams, &gs, from, mc); err != nil {
		return err
	}
	for _, base := range f.waypoints {
		d, err := fetchWaypoint(ctx, base)
		if err != nil {
			return err
		}
		if err := writeWaypoint(streams.Out, base, d, &gs); err != nil {
			return err
		}
	}
	return nil
}

// describeFromStore reads the service's records and prints endpoints and, with a viewpoint,
// its tiers.
func (f *globalServiceFlags) describeFromStore(ctx context.Context, streams cli.Streams, gs *meshfedv1.GlobalService, from *viewpoint, mc *meshfedv1.MemberCluster) error {
	st, err := store.Connect(ctx, store.ClientConfig{
		Endpoints: f.etcdEndpoints, CAFile: f.etcdCAFile, CertFile: f.etcdCertFile, KeyFile: f.etcdKeyFile,
		Logger: quietLogger(streams.ErrOut),
	})
	if err != nil {
		return fmt.Errorf("failed to connect to the federation store: %w", err)
	}
	defer func() { _ = st.Close() }()
	v, err := loadStoreView(ctx, st, gs.Namespace, gs.Spec.Domain, gs.Spec.ServiceName)
	if err != nil {
		return err
	}
	for _, derr := range v.decodeErrors {
		fmt.Fprintf(streams.ErrOut, "warning: %v\n", derr)
	}
	if err := writeEndpoints(streams.Out, v); err != nil {
		return err
	}
	if from == nil {
		return nil
	}
	if v.service == nil {
		return fmt.Errorf("failed to compute tiers of %s/%s from %s: the federation store has no service record", gs.Namespace, gs.Name, from.Cluster)
	}
	tv, err := computeTiers(v, from, mc)
	if err != nil {
		return err
	}
	return writeTiers(streams.Out, tv)
}

// memberCluster reads the MemberCluster a viewpoint names.
func memberCluster(ctx context.Context, hub client.Client, name string) (*meshfedv1.MemberCluster, error) {
	var mc meshfedv1.MemberCluster
	if err := hub.Get(ctx, types.NamespacedName{Name: name}, &mc); err != nil {
		return nil, fmt.Errorf("failed to get member cluster %s: %w", name, err)
	}
	return &mc, nil
}

// quietLogger passes on only the etcd client's errors, so that the command's output stays
// clean.
func quietLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelError}))
}
