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
	toolscache "k8s.io/client-go/tools/cache"
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
	"github.com/meshfed/meshfed/federation/store"
)

// Run starts the hub and blocks until ctx ends or a component fails.
//
// Only the replica holding the Lease (see elector) connects to the members and runs the
// federation loop; every replica keeps its caches of the hub cluster and answers its probes.
// When ctx ends, the leader stops in this order: its federation pass is abandoned and the loop
// resigns the store leadership (the writer's etcd session is revoked, so every later write of
// this replica is refused by etcd), the member controller stops, then the Lease is released,
// then the process exits. A successor takes the Lease at once (it watches it) and finds the
// store election free.
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
	st, closeStore, err := openStore(ctx, o, log)
	if err != nil {
		return err
	}
	defer closeStore()
	mgr, err := newManager(cfg, o)
	if err != nil {
		return err
	}
	identity := replicaIdentity(o.Identity)
	writer := store.NewWriter(st, store.WriterOptions{
		Identity: identity, SessionTTL: int(leaseSeconds(o.LeaseDuration)), Logger: log,
	})
	leader, members, err := setUpLeaderWork(ctx, mgr, st, writer, o, log)
	if members != nil {
		defer members.Close()
	}
	if err != nil {
		return err
	}
	if err := errors.Join(mgr.AddHealthzCheck("ping", healthz.Ping), mgr.AddReadyzCheck("store", storeCheck(st))); err != nil {
		return fmt.Errorf("failed to add health checks: %w", err)
	}
	// The embedded store is written only by the process that embeds it: a writer found in it now
	// is a previous incarnation of this hub, which has exited (this process holds the data
	// directory). Its session would hold the store for a TTL (etcd counts it afresh after a
	// restart), and its Lease for a lease duration: both are taken at once.
	var departed []string
	if o.embeddedStore() {
		if departed, err = writer.Evict(ctx, func(string) bool { return true }); err != nil {
			log.Warn("failed to evict the previous store writers; campaigning behind them", "error", err)
		}
	}
	lead := func(ctx context.Context, previous string) error {
		evictPrevious(ctx, writer, previous, log)
		return leader.run(ctx)
	}
	if err := mgr.Add(leadership(cfg, o, identity, departed, lead, log)); err != nil {
		return fmt.Errorf("failed to add leader election: %w", err)
	}
	log.Info("hub starting", "identity", identity, "namespace", o.Namespace)
	return mgr.Start(ctx)
}

// leadership runs lead while this replica holds the Lease (see elector), or all along without
// leader election.
func leadership(cfg *rest.Config, o Options, identity string, departed []string, lead func(context.Context, string) error, log *slog.Logger) manager.Runnable {
	return manager.RunnableFunc(func(ctx context.Context) error {
		if !o.LeaderElection {
			return lead(ctx, "")
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return fmt.Errorf("failed to create leader election client: %w", err)
		}
		return newElector(cs, electorConfig{
			Namespace: o.Namespace, Name: wellknown.HubLeaseName, Identity: identity, Timing: o.leaseTiming(), Departed: departed,
		}, log).Run(ctx, lead)
	})
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

// setUpLeaderWork builds the leader's components, the member connections and the federation
// loop, into a leaderWork, and makes the hub objects they follow wake the loop. Every replica
// caches those objects (and the member Secrets), so that a standby's member controller starts
// without a first list when it takes over. The caller closes members, when not nil.
func setUpLeaderWork(ctx context.Context, mgr ctrl.Manager, st *store.Client, w *store.Writer, o Options, log *slog.Logger) (*leaderWork, *controller.Members, error) {
	ports, _ := o.PortRange()
	fed := controller.NewFederation(mgr.GetClient(), st, w, controller.FederationOptions{
		Ports: ports, Debounce: 20 * time.Millisecond, Resync: o.Resync,
	}, log)
	members := controller.NewMembers(mgr.GetClient(), controller.MembersOptions{
		Namespace: o.Namespace, StaleGrace: o.StaleGrace, ProbeInterval: o.ProbeInterval, SyncTimeout: time.Minute,
	}, log, fed.Trigger)
	fed.SetMembers(members)
	leader := &leaderWork{Manager: mgr}
	if err := members.SetupWithManager(leader); err != nil {
		return nil, members, fmt.Errorf("failed to set up membercluster controller: %w", err)
	}
	if err := leader.Add(fed); err != nil {
		return nil, members, fmt.Errorf("failed to add federation loop: %w", err)
	}
	if err := triggerOn(ctx, mgr, fed, &meshfedv1.Segment{}, &meshfedv1.MemberCluster{}); err != nil {
		return nil, members, err
	}
	if _, err := mgr.GetCache().GetInformer(ctx, &corev1.Secret{}); err != nil {
		return nil, members, fmt.Errorf("failed to watch member secrets: %w", err)
	}
	return leader, members, nil
}

// leaderWork is the manager as the leader's components see it: what they add to it (the
// controllers the builder makes add themselves) runs only while this replica holds the Lease,
// started by run; everything else is the manager's.
type leaderWork struct {
	manager.Manager
	runnables []manager.Runnable
}

// Add keeps r for run instead of starting it with the manager.
func (l *leaderWork) Add(r manager.Runnable) error {
	l.runnables = append(l.runnables, r)
	return nil
}

// run starts every runnable and returns when all have returned: when ctx ends, or after the
// first one failed (the others are then stopped).
func (l *leaderWork) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(l.runnables))
	for _, r := range l.runnables {
		go func() {
			err := r.Start(ctx)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	var all []error
	for range l.runnables {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// evictPrevious revokes the store session of the replica the Lease was taken from, if any: its
// Lease ran out, so it has stopped leading, and the campaign that follows need not wait for its
// session to expire. A failure only costs time: the campaign then waits for the session's TTL.
func evictPrevious(ctx context.Context, w *store.Writer, previous string, log *slog.Logger) {
	if previous == "" {
		return
	}
	if _, err := w.Evict(ctx, func(id string) bool { return id == previous }); err != nil && ctx.Err() == nil {
		log.Warn("failed to evict the previous store writer; campaigning behind it", "previous", previous, "error", err)
	}
}

// triggerOn wakes the federation loop on every change of the given hub kinds.
func triggerOn(ctx context.Context, mgr ctrl.Manager, fed *controller.Federation, objs ...client.Object) error {
	for _, obj := range objs {
		inf, err := mgr.GetCache().GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("failed to watch %T: %w", obj, err)
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { fed.Trigger() },
			UpdateFunc: func(any, any) { fed.Trigger() },
			DeleteFunc: func(any) { fed.Trigger() },
		}); err != nil {
			return fmt.Errorf("failed to watch %T: %w", obj, err)
		}
	}
	return nil
}

func storeCheck(st *store.Client) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		_, err := st.Revision(ctx)
		return err
	}
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
