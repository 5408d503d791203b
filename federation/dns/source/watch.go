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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsclient "sigs.k8s.io/mcs-api/pkg/client/clientset/versioned"
	mcsinformers "sigs.k8s.io/mcs-api/pkg/client/informers/externalversions"
	mcslisters "sigs.k8s.io/mcs-api/pkg/client/listers/apis/v1alpha1"

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
	Logger   *slog.Logger
}

// Watcher follows the meshfed ServiceImports of one cluster and publishes a table after every
// change.
type Watcher struct {
	client   mcsclient.Interface
	o        Options
	log      *slog.Logger
	synced   atomic.Bool
	serial   uint32
	problems map[string]bool
}

// New makes a Watcher reading through cfg; it does no I/O.
func New(cfg *rest.Config, o Options) (*Watcher, error) {
	if o.Publish == nil {
		return nil, errors.New("source: Options.Publish is required")
	}
	if err := o.Zone.Validate(); err != nil {
		return nil, err
	}
	c, err := mcsclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to make a ServiceImport client: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o.Debounce = cmp.Or(o.Debounce, DefaultDebounce)
	return &Watcher{client: c, o: o, log: log, problems: map[string]bool{}}, nil
}

// Synced reports whether the first table, built from a complete list, has been published.
func (w *Watcher) Synced() bool { return w.synced.Load() }

// Run watches until ctx ends. It returns nil then, or an error when the cache cannot sync.
func (w *Watcher) Run(ctx context.Context) error {
	factory := mcsinformers.NewSharedInformerFactoryWithOptions(w.client, 0,
		mcsinformers.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.LabelSelector = wellknown.ManagedByLabel + "=" + wellknown.ManagedByValue
		}),
		mcsinformers.WithTransform(slim))
	imports := factory.Multicluster().V1alpha1().ServiceImports()
	informer := imports.Informer()
	changed := make(chan struct{}, 1)
	kick := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { kick() }, UpdateFunc: func(any, any) { kick() }, DeleteFunc: func(any) { kick() },
	}); err != nil {
		return fmt.Errorf("failed to watch ServiceImports: %w", err)
	}
	if err := informer.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		w.log.Warn("ServiceImport watch failed; retrying", "error", err)
	}); err != nil {
		return fmt.Errorf("failed to watch ServiceImports: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("failed to sync the ServiceImport cache")
	}
	w.rebuild(imports.Lister())
	w.synced.Store(true)
	return w.loop(ctx, changed, imports.Lister())
}

func (w *Watcher) loop(ctx context.Context, changed <-chan struct{}, lister mcslisters.ServiceImportLister) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(w.o.Debounce):
		}
		select { // changes during the wait are in this rebuild
		case <-changed:
		default:
		}
		w.rebuild(lister)
	}
}

// rebuild builds a table from every import in the cache and publishes it.
func (w *Watcher) rebuild(lister mcslisters.ServiceImportLister) {
	list, err := lister.List(labels.Everything())
	if err != nil { // a cache lister does not fail
		w.log.Error("failed to list ServiceImports from the cache", "error", err)
		return
	}
	slices.SortFunc(list, func(a, b *mcsv1alpha1.ServiceImport) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	services := make([]zone.Service, 0, len(list))
	var problems []string
	for _, si := range list {
		s, err := Service(si)
		if err != nil {
			problems = append(problems, err.Error())
		}
		services = append(services, s)
	}
	w.serial = max(w.serial+1, uint32(time.Now().Unix()))
	o := w.o.Zone
	o.Serial = w.serial
	t, err := zone.Build(services, o)
	if err != nil { // Options were validated in New
		w.log.Error("failed to build the DNS table", "error", err)
		return
	}
	for _, p := range t.Problems() {
		problems = append(problems, p.String())
	}
	w.report(problems)
	w.o.Publish(t)
	w.log.Debug("DNS table published", "imports", len(list), "services", t.Services(), "names", t.Names(), "serial", w.serial)
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

// slim drops what the table never reads from a cached ServiceImport (managed fields, status,
// foreign annotations), so the cache stays small.
func slim(obj any) (any, error) {
	si, ok := obj.(*mcsv1alpha1.ServiceImport)
	if !ok {
		return obj, nil
	}
	si.ManagedFields = nil
	si.Status = mcsv1alpha1.ServiceImportStatus{}
	for k := range si.Annotations {
		if k != wellknown.HostnameAnnotation && k != wellknown.TakeoverAnnotation {
			delete(si.Annotations, k)
		}
	}
	return si, nil
}
