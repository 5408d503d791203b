package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/controller"
	"github.com/meshfed/meshfed/federation/store"
)

// leaseName is the hub's leader-election Lease in its namespace.
const leaseName = "meshfed-hub"

// Run starts the hub and blocks until ctx ends or a component fails.
func Run(ctx context.Context, o Options, log *slog.Logger) error {
	if err := o.Validate(); err != nil {
		return err
	}
	ports, _ := o.PortRange()
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

	scheme := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(scheme), meshfedv1.AddToScheme(scheme)); err != nil {
		return fmt.Errorf("failed to build hub scheme: %w", err)
	}
	lock, err := leaderLock(cfg, o)
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                              scheme,
		LeaderElection:                      o.LeaderElection,
		LeaderElectionID:                    leaseName,
		LeaderElectionNamespace:             o.Namespace,
		LeaderElectionReleaseOnCancel:       true,
		LeaderElectionResourceLockInterface: lock,
		LeaseDuration:                       &o.LeaseDuration,
		RenewDeadline:                       &o.RenewDeadline,
		RetryPeriod:                         &o.RetryPeriod,
		Metrics:                             metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:              o.HealthAddr,
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
		return fmt.Errorf("failed to create manager: %w", err)
	}
	writer := store.NewWriter(st, store.WriterOptions{
		Identity: o.Identity, SessionTTL: int(math.Ceil(o.LeaseDuration.Seconds())), Logger: log,
	})
	fed := controller.NewFederation(mgr.GetClient(), st, writer, controller.FederationOptions{
		Ports: ports, Debounce: 20 * time.Millisecond, Resync: o.Resync,
	}, log)
	members := controller.NewMembers(mgr.GetClient(), controller.MembersOptions{
		Namespace: o.Namespace, StaleGrace: o.StaleGrace, ProbeInterval: o.ProbeInterval, SyncTimeout: time.Minute,
	}, log, fed.Trigger)
	defer members.Close()
	fed.SetMembers(members)
	if err := members.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up membercluster controller: %w", err)
	}
	if err := mgr.Add(fed); err != nil {
		return fmt.Errorf("failed to add federation loop: %w", err)
	}
	if err := triggerOn(ctx, mgr, fed, &meshfedv1.Segment{}, &meshfedv1.MemberCluster{}); err != nil {
		return err
	}
	if err := errors.Join(mgr.AddHealthzCheck("ping", healthz.Ping), mgr.AddReadyzCheck("store", storeCheck(st))); err != nil {
		return fmt.Errorf("failed to add health checks: %w", err)
	}
	log.Info("hub starting", "identity", o.Identity, "namespace", o.Namespace)
	return mgr.Start(ctx)
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

// leaderLock is the hub's Lease lock. Its holder identity is the replica's --identity with a
// random suffix, so that `kubectl get lease` names the pod that leads and two replicas given the
// same identity by mistake still exclude each other.
func leaderLock(cfg *rest.Config, o Options) (resourcelock.Interface, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create leader election client: %w", err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	return resourcelock.New(resourcelock.LeasesResourceLock, o.Namespace, leaseName, cs.CoreV1(), cs.CoordinationV1(),
		resourcelock.ResourceLockConfig{Identity: o.Identity + "_" + hex.EncodeToString(suffix)})
}
