package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/controller"
)

// Run starts the hub and blocks until ctx ends or a component fails.
//
// Every replica connects to the members and keeps their caches, and keeps its caches of the hub
// cluster; only the replica holding the Lease (see elector) runs the federation loop and writes
// (see leader). When ctx ends, the leader stops in this order: its federation pass is abandoned
// and the loop resigns the store leadership (the writer's etcd session is revoked, so every
// later write of this replica is refused by etcd), its member registry stops writing, then the
// Lease is released, then the process exits. A successor takes the Lease at once (it watches
// it), finds the store election free and its members connected (README.md in the command's
// directory).
//
// The store opens in the background. The embedded store is written only by the process that
// embeds it: a writer found in it then is a previous incarnation of this hub, which has exited
// (this process holds the data directory). Its session would hold the store for a TTL (etcd
// counts it afresh after a restart), and its Lease for a lease duration: both are taken at once.
func Run(ctx context.Context, o Options, log *slog.Logger) error {
	if err := o.Validate(); err != nil {
		return err
	}
	ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
	cfg, err := o.RESTConfig()
	if err != nil {
		return err
	}
	if err := awaitNamespace(ctx, cfg, o.Namespace, log); err != nil {
		return err
	}
	mgr, err := newManager(cfg, o)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create leader election client: %w", err)
	}
	identity := replicaIdentity(o.Identity)
	el := newElector(cs, electorConfig{
		Namespace: o.Namespace, Name: wellknown.HubLeaseName, Identity: identity, Timing: o.leaseTiming(),
	}, log)
	st := openStore(ctx, cfg, o, identity, el.depart, log)
	defer st.shutdown()
	if err := warmCaches(ctx, mgr); err != nil {
		return err
	}
	if err := errors.Join(mgr.AddHealthzCheck("ping", healthz.Ping), mgr.AddReadyzCheck("store", st.check)); err != nil {
		return fmt.Errorf("failed to add health checks: %w", err)
	}
	l := &leader{mgr: mgr, store: st, opts: o, log: log}
	l.members = controller.NewMembers(mgr.GetClient(), controller.MembersOptions{
		Namespace: o.Namespace, StaleGrace: o.StaleGrace, ProbeInterval: o.ProbeInterval, SyncTimeout: time.Minute,
		Standby: true,
	}, log, l.membersChanged)
	defer l.members.Close()
	if err := l.members.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up membercluster controller: %w", err)
	}
	// Ready only once warm: a rolling update then stops the leader only when its successor has
	// tried every member (README.md in the command's directory).
	if err := mgr.AddReadyzCheck("members", func(req *http.Request) error { return l.members.Warm(req.Context()) }); err != nil {
		return fmt.Errorf("failed to add health checks: %w", err)
	}
	if err := errors.Join(mgr.Add(manager.RunnableFunc(st.watch)), mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		if !o.LeaderElection {
			return l.lead(ctx, "")
		}
		return el.Run(ctx, l.lead)
	}))); err != nil {
		return fmt.Errorf("failed to add the leader's work: %w", err)
	}
	log.Info("hub starting", "identity", identity, "namespace", o.Namespace)
	return mgr.Start(ctx)
}

// warmCaches starts the informer of the Segments on every replica (the member registry starts
// those of the MemberClusters and the member Secrets), so that a new leader's federation loop
// starts without a first list.
func warmCaches(ctx context.Context, mgr ctrl.Manager) error {
	if _, err := mgr.GetCache().GetInformer(ctx, &meshfedv1.Segment{}); err != nil {
		return fmt.Errorf("failed to watch segments: %w", err)
	}
	return nil
}

// newManager creates the hub's controller-runtime manager. It runs no leader election of its
// own: Run's elector starts the leader's work.
func newManager(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	scheme := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(scheme), meshfedv1.AddToScheme(scheme)); err != nil {
		return nil, fmt.Errorf("failed to build hub scheme: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress: o.HealthAddr,
		// The hub reads only its own namespace's Secrets (member kubeconfigs): caching only those
		// lets its RBAC be a Role there (deploy/hub) instead of reading every Secret of the cluster.
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Namespaces: map[string]cache.Config{o.Namespace: {}}},
		}},
		// Controller names are unique per process; Run may run more than once in one process
		// (tests restart the hub), and only one manager is ever running at a time.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create manager: %w", err)
	}
	return mgr, nil
}

// replicaIdentity is the identity of this process in the Lease and the store's election: the
// replica's --identity (the pod name) with a random suffix, so that `kubectl get lease` names
// the pod that leads, a restarted process is told from its previous incarnation, and two
// replicas given the same identity by mistake still exclude each other.
func replicaIdentity(base string) string {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	return base + "_" + hex.EncodeToString(suffix)
}
