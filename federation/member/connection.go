package member

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"
)

// ErrNotSynced is returned by Objects before the connection's caches have synced: nothing may
// be merged or withdrawn for a member until then.
var ErrNotSynced = errors.New("member caches not synced")

// Connection is the hub's live view of one member cluster: a controller-runtime cluster whose
// caches watch Services, EndpointSlices, Nodes, Namespaces and, where the MCS CRD is installed,
// ServiceExports.
type Connection struct {
	name    string
	cluster cluster.Cluster
	hasMCS  bool
	// importVersion is the MCS version the member serves ServiceImports in, v1beta1 where
	// served; empty when it serves none.
	importVersion string

	cancel context.CancelFunc
	done   chan struct{}
	conns  *connTracker
	// derived keeps the endpoints derived from each Service's slices between passes, exported
	// each Service's export.
	derived  EndpointsCache
	exported ExportsCache

	mu     sync.Mutex
	synced bool
	runErr error
}

// NewScheme returns the scheme of the objects the hub reads from and writes to members.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, mcsv1alpha1.Install, mcsv1beta1.Install} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("failed to build member scheme: %w", err)
		}
	}
	return s, nil
}

// Connect builds the connection for member name from cfg. It does no watching until Start.
func Connect(name string, cfg *rest.Config, log *slog.Logger) (*Connection, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	conns := newConnTracker()
	cfg = rest.CopyConfig(cfg)
	cfg.Dial = conns.DialContext
	c, err := cluster.New(cfg, func(o *cluster.Options) {
		o.Scheme = scheme
		o.Logger = logr.FromSlogHandler(log.With("member", name).Handler())
		// The caches hold every Service, EndpointSlice and Node of the member: each keeps only
		// what the hub reads (see CacheTransform).
		o.Cache.DefaultTransform = CacheTransform()
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create member cluster %s: %w", name, err)
	}
	return &Connection{name: name, cluster: c, done: make(chan struct{}), conns: conns}, nil
}

// Name is the member cluster's name.
func (c *Connection) Name() string { return c.name }

// Cluster is the underlying controller-runtime cluster, for watches and writes.
func (c *Connection) Cluster() cluster.Cluster { return c.cluster }

// HasMCS reports whether the member serves the MCS ServiceExport API.
func (c *Connection) HasMCS() bool { return c.hasMCS }

// ImportVersion is the MCS API version the member serves ServiceImports in: "v1beta1" where
// served (the version mcs-api's CRDs store), else "v1alpha1"; empty when it serves neither.
func (c *Connection) ImportVersion() string { return c.importVersion }

// Start asks the member which APIs it serves, registers the informers and starts the caches,
// then waits until they synced or ctx ends. The caches keep running until Close.
func (c *Connection) Start(ctx context.Context) error {
	served, err := servedMCS(c.cluster.GetConfig())
	if err != nil {
		return fmt.Errorf("failed to discover APIs of member %s: %w", c.name, err)
	}
	c.hasMCS = served[mcsv1alpha1.GroupVersion.Version]["serviceexports"]
	for _, v := range []string{mcsv1beta1.GroupVersion.Version, mcsv1alpha1.GroupVersion.Version} {
		if served[v]["serviceimports"] {
			c.importVersion = v
			break
		}
	}
	for _, obj := range c.Watched() {
		if _, err := c.cluster.GetCache().GetInformer(ctx, obj); err != nil {
			return fmt.Errorf("failed to watch %T in member %s: %w", obj, c.name, err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		err := c.cluster.Start(runCtx)
		c.mu.Lock()
		c.runErr = err
		c.mu.Unlock()
	}()
	if !c.cluster.GetCache().WaitForCacheSync(ctx) {
		return fmt.Errorf("failed to sync caches of member %s: %w", c.name, context.Cause(ctx))
	}
	c.mu.Lock()
	c.synced = true
	c.mu.Unlock()
	return nil
}

// Close stops the caches and waits for them to end, for a bounded time. Caches still blocked
// on a member API server that stopped answering after closeGrace lose their TCP connections
// (and can open no new ones), which ends them; a reflector sleeping in client-go's watch-list
// backoff does not watch its context, so Close stops waiting after closeWait and lets it end on
// its own. Writes made through the connection's client fail from then on.
func (c *Connection) Close() {
	if c.cancel == nil {
		c.conns.closeAll()
		return
	}
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(closeGrace):
		c.conns.closeAll()
		select {
		case <-c.done:
		case <-time.After(closeWait):
		}
	}
	c.conns.closeAll()
}

// Watched lists the kinds the connection watches.
func (c *Connection) Watched() []client.Object {
	objs := []client.Object{&corev1.Service{}, &discoveryv1.EndpointSlice{}, &corev1.Node{}, &corev1.Namespace{}}
	if c.hasMCS {
		objs = append(objs, &mcsv1alpha1.ServiceExport{})
	}
	return objs
}

// servedMCS lists, per MCS API version, the resources the member serves.
func servedMCS(cfg *rest.Config) (map[string]map[string]bool, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]bool{}
	for _, gv := range []metav1.GroupVersion{mcsv1alpha1.GroupVersion, mcsv1beta1.GroupVersion} {
		res, err := dc.ServerResourcesForGroupVersion(gv.String())
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		names := map[string]bool{}
		for _, r := range res.APIResources {
			names[r.Name] = true
		}
		out[gv.Version] = names
	}
	return out, nil
}
