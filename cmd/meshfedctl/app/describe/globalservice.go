package describe

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/internal/cmdline"
)

// describeGlobalService prints the object, its endpoints from the store (with
// --etcd-endpoints), its tiers from a viewpoint (--from) and its live routing in waypoints
// (--waypoint).
func (f *flags) describeGlobalService(ctx context.Context, streams cli.Streams, hub client.Client, obj client.Object, wide bool) error {
	gs := obj.(*meshfedv1.GlobalService)
	key := client.ObjectKeyFromObject(gs)
	var from *viewpoint
	if f.from != "" {
		if len(f.etcdEndpoints) == 0 {
			return cmdline.Usagef("failed to describe global service %s: --from needs the federation store (--etcd-endpoints)", key)
		}
		vp, err := parseViewpoint(f.from)
		if err != nil {
			return err
		}
		from = &vp
	}
	var mc *meshfedv1.MemberCluster
	if from != nil {
		var err error
		if mc, err = memberCluster(ctx, hub, from.Cluster); err != nil {
			return err
		}
	}
	if err := writeObject(streams.Out, gs); err != nil {
		return err
	}
	if wide {
		if err := writeMeta(streams.Out, gs); err != nil {
			return err
		}
	}
	if len(f.etcdEndpoints) == 0 {
		if _, err := fmt.Fprintln(streams.Out, "Endpoints: <not shown: endpoint detail needs the federation store, pass --etcd-endpoints (the hub's store)>"); err != nil {
			return err
		}
	} else if err := f.describeFromStore(ctx, streams, gs, from, mc); err != nil {
		return err
	}
	for _, base := range f.waypoints {
		d, err := fetchWaypoint(ctx, base)
		if err != nil {
			return err
		}
		if err := writeWaypoint(streams.Out, base, d, gs); err != nil {
			return err
		}
	}
	return nil
}

// describeFromStore reads the service's records and prints endpoints and, with a viewpoint,
// its tiers.
func (f *flags) describeFromStore(ctx context.Context, streams cli.Streams, gs *meshfedv1.GlobalService, from *viewpoint, mc *meshfedv1.MemberCluster) error {
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
	if from != nil {
		if err := loadWaypoints(ctx, st, v, gs.Namespace); err != nil {
			return err
		}
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
	return writeTiers(streams.Out, computeTiers(v, from, mc, quietLogger(streams.ErrOut)))
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
