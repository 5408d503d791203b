package source

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/dns/zone"
)

// DefaultDebounce is how long a change waits for more before the table is rebuilt: a burst of
// changes (the hub writing many imports at once) makes one table.
const DefaultDebounce = 50 * time.Millisecond

// Options configure a Watcher.
type Options struct {
	// Zone configures every table built (TTL, cluster domain, zones always served).
	Zone zone.Options
	// Publish receives every table built, the first one once the cache has synced. It must
	// not block for long.
	Publish func(*zone.Table)
	// Debounce: 0 means DefaultDebounce.
	Debounce time.Duration
	// ReleaseGrace is how long a name whose takeover ended is answered with the cluster's own
	// Service (zone.Service.Released): 0 means DefaultReleaseGrace, negative none.
	ReleaseGrace time.Duration
	Logger       *slog.Logger
}

// serviceImports is the resource the hub writes; the watch goes through the dynamic client and
// decodes into the typed object itself, so the binary does not link the scheme of every
// Kubernetes API group that generated clientsets register.
var serviceImports = schema.GroupVersionResource{Group: mcsv1alpha1.GroupName, Version: "v1alpha1", Resource: "serviceimports"}

// services are read one by one, when a takeover ends (see releases).
var services = schema.GroupVersionResource{Version: "v1", Resource: "services"}

// localTimeout bounds the read of one local Service.
const localTimeout = 2 * time.Second

// Watcher follows the meshfed ServiceImports of one cluster and publishes a table after every
// change.
type Watcher struct {
	client   dynamic.Interface
	o        Options
	log      *slog.Logger
	synced   atomic.Bool
	serial   uint32
	problems map[string]bool
	released *releases
}

// New makes a Watcher reading through cfg; it does no I/O.
func New(cfg *rest.Config, o Options) (*Watcher, error) {
	if o.Publish == nil {
		return nil, errors.New("source: Options.Publish is required")
	}
	if err := o.Zone.Validate(); err != nil {
		return nil, err
	}
	c, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to make a ServiceImport client: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o.Debounce = cmp.Or(o.Debounce, DefaultDebounce)
	o.ReleaseGrace = cmp.Or(o.ReleaseGrace, DefaultReleaseGrace)
	return &Watcher{client: c, o: o, log: log, problems: map[string]bool{}, released: newReleases(o.ReleaseGrace)}, nil
}

// Synced reports whether the first table, built from a complete list, has been published.
func (w *Watcher) Synced() bool { return w.synced.Load() }

// Run watches until ctx ends. It returns nil then, or an error when the cache cannot sync.
func (w *Watcher) Run(ctx context.Context) error {
	informer, err := w.informer()
	if err != nil {
		return err
	}
	eps, err := w.sliceInformer()
	if err != nil {
		return err
	}
	changed := make(chan struct{}, 1)
	kick := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	for _, inf := range []cache.SharedIndexInformer{informer, eps} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { kick() }, UpdateFunc: func(any, any) { kick() }, DeleteFunc: func(any) { kick() },
		}); err != nil {
			return fmt.Errorf("failed to watch ServiceImports and EndpointSlices: %w", err)
		}
		go inf.RunWithContext(ctx)
	}
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced, eps.HasSynced) {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("failed to sync the ServiceImport and EndpointSlice caches")
	}
	st := stores{imports: informer.GetStore(), slices: eps.GetStore()}
	w.rebuild(ctx, st)
	w.synced.Store(true)
	return w.loop(ctx, changed, st)
}

// stores are the watcher's caches.
type stores struct {
	imports, slices cache.Store
}

// informer lists and watches the ServiceImports labeled as meshfed's in every namespace and
// caches them as slim typed objects.
func (w *Watcher) informer() (cache.SharedIndexInformer, error) {
	return w.watch(serviceImports, wellknown.ManagedByLabel+"="+wellknown.ManagedByValue, "ServiceImport", slim)
}

// watch makes an informer of resource res in every namespace, selected by selector, that
// caches what transform makes of each object and logs failed watches.
func (w *Watcher) watch(res schema.GroupVersionResource, selector, kind string, transform cache.TransformFunc) (cache.SharedIndexInformer, error) {
	ri := w.client.Resource(res)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return ri.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			return ri.Watch(ctx, o)
		},
	}
	informer := cache.NewSharedIndexInformerWithOptions(lw, &unstructured.Unstructured{}, cache.SharedIndexInformerOptions{ObjectDescription: kind})
	if err := informer.SetTransform(transform); err != nil {
		return nil, fmt.Errorf("failed to watch %ss: %w", kind, err)
	}
	if err := informer.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		w.log.Warn("watch failed; retrying", "kind", kind, "error", err)
	}); err != nil {
		return nil, fmt.Errorf("failed to watch %ss: %w", kind, err)
	}
	return informer, nil
}

// loop rebuilds after every change (debounced) and when a release ends.
func (w *Watcher) loop(ctx context.Context, changed <-chan struct{}, store stores) error {
	for {
		var releaseEnds <-chan time.Time
		if next := w.released.next(); !next.IsZero() {
			releaseEnds = time.After(time.Until(next))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-releaseEnds:
		case <-changed:
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(w.o.Debounce):
			}
		}
		select { // changes during the wait are in this rebuild
		case <-changed:
		default:
		}
		w.rebuild(ctx, store)
	}
}

// rebuild builds a table from every import in the cache (a Headless one with the endpoints of
// its MCS EndpointSlices), and the released takeovers, and publishes it.
func (w *Watcher) rebuild(ctx context.Context, store stores) {
	var list []*mcsv1alpha1.ServiceImport
	for _, obj := range store.imports.List() {
		if si, ok := obj.(*mcsv1alpha1.ServiceImport); ok {
			list = append(list, si)
		}
	}
	slices.SortFunc(list, func(a, b *mcsv1alpha1.ServiceImport) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	services := make([]zone.Service, 0, len(list))
	var problems []string
	bySvc := slicesByService(store.slices)
	for _, si := range list {
		s, err := Service(si)
		if err != nil {
			problems = append(problems, err.Error())
		}
		if s.Headless {
			s.Endpoints = HeadlessEndpoints(bySvc[types.NamespacedName{Namespace: si.Namespace, Name: si.Name}])
		}
		services = append(services, s)
	}
	services = w.withReleases(ctx, services)
	w.serial = max(w.serial+1, uint32(time.Now().Unix()))
	o := w.o.Zone
	o.Serial = w.serial
	t, err := zone.Build(services, o)
	if err != nil { // Options were validated in New
		w.log.Error("failed to build the DNS table", "error", err)
		return
	}
	for _, p := range t.Omissions() {
		problems = append(problems, p.String())
	}
	w.report(problems)
	w.o.Publish(t)
	w.log.Debug("DNS table published", "imports", len(list), "services", t.Services(), "names", t.Names(), "serial", w.serial)
}

// withReleases records which names the imports take over, reads the cluster's own Service of
// each name released since the last table, and returns imports followed by the releases.
func (w *Watcher) withReleases(ctx context.Context, imports []zone.Service) []zone.Service {
	takenOver := map[types.NamespacedName]bool{}
	for _, s := range imports {
		if s.Takeover && len(s.IPs) > 0 {
			takenOver[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = true
		}
	}
	for _, k := range w.released.update(time.Now(), takenOver) {
		local, err := w.localService(ctx, k)
		if err != nil {
			// Without it the name is unknown here: REFUSED while CoreDNS still forwards it.
			w.log.Warn("cannot read the Service whose takeover ended; its name is not answered until CoreDNS stops forwarding it", "service", k, "error", err)
			continue
		}
		w.released.local[k] = &local
		w.log.Info("takeover ended; answering the cluster's own Service until CoreDNS stops forwarding the name",
			"service", k, "addresses", local.IPs, "grace", w.o.ReleaseGrace)
	}
	return append(imports, w.released.services()...)
}

// localService reads the cluster's own Service key.
func (w *Watcher) localService(ctx context.Context, key types.NamespacedName) (zone.Service, error) {
	ctx, cancel := context.WithTimeout(ctx, localTimeout)
	defer cancel()
	u, err := w.client.Resource(services).Namespace(key.Namespace).Get(ctx, key.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return LocalService(key, nil), nil
	}
	if err != nil {
		return zone.Service{}, fmt.Errorf("failed to read Service %s: %w", key, err)
	}
	var svc corev1.Service
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &svc); err != nil {
		return zone.Service{}, fmt.Errorf("failed to decode Service %s: %w", key, err)
	}
	return LocalService(key, &svc), nil
}

// report logs each problem once, when it first appears, and when problems go away.
func (w *Watcher) report(problems []string) {
	now := make(map[string]bool, len(problems))
	for _, p := range problems {
		now[p] = true
		if !w.problems[p] {
			w.log.Warn("ServiceImport not served as it is", "problem", p)
		}
	}
	for p := range w.problems {
		if !now[p] {
			w.log.Info("ServiceImport problem resolved", "problem", p)
		}
	}
	w.problems = now
}

// slim decodes a listed or watched ServiceImport into the typed object and keeps only what the
// table reads (namespace, name, type, IPs, ports, meshfed's annotations) and the resource
// version, so the cache stays small.
// The API server validates ServiceImports against the CRD's schema, so decoding does not fail;
// if it did, the object is kept without its spec: it serves no name, and the table lists it
// as a problem (no IPs).
func slim(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	si := &mcsv1alpha1.ServiceImport{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, si); err != nil {
		si = &mcsv1alpha1.ServiceImport{ObjectMeta: metav1.ObjectMeta{Namespace: u.GetNamespace(), Name: u.GetName(), ResourceVersion: u.GetResourceVersion()}}
	}
	slimmed := &mcsv1alpha1.ServiceImport{
		ObjectMeta: metav1.ObjectMeta{Namespace: si.Namespace, Name: si.Name, ResourceVersion: si.ResourceVersion},
		Spec:       mcsv1alpha1.ServiceImportSpec{Type: si.Spec.Type, IPs: si.Spec.IPs},
	}
	for _, k := range []string{wellknown.HostnameAnnotation, wellknown.TakeoverAnnotation} {
		if v, ok := si.Annotations[k]; ok {
			if slimmed.Annotations == nil {
				slimmed.Annotations = map[string]string{}
			}
			slimmed.Annotations[k] = v
		}
	}
	for _, p := range si.Spec.Ports {
		slimmed.Spec.Ports = append(slimmed.Spec.Ports, mcsv1alpha1.ServicePort{Name: p.Name, Protocol: p.Protocol, Port: p.Port})
	}
	return slimmed, nil
}
