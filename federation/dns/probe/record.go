package probe

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/dns/zone"
)

// configMaps is the resource the Recorder writes; it goes through the dynamic client so that
// meshfed-dns links no typed clientset.
var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// Recorder keeps the DNSTakeoverConfigMap in SystemNamespace listing the confirmed names.
type Recorder struct {
	Client dynamic.Interface
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Record makes the ConfigMap list exactly confirmed (fully qualified names; the keys drop the
// final dot), keeping the time a name was first listed. It writes only when the set of names
// changed, so replicas that see the same answers agree and do not write in turn. A write that
// raced another replica's fails; the next round retries it.
func (r *Recorder) Record(ctx context.Context, confirmed []string) error {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	res := r.Client.Resource(configMaps).Namespace(wellknown.SystemNamespace)
	var cm corev1.ConfigMap
	u, err := res.Get(ctx, wellknown.DNSTakeoverConfigMap, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		cm = corev1.ConfigMap{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{
				Name: wellknown.DNSTakeoverConfigMap, Namespace: wellknown.SystemNamespace,
				Labels: map[string]string{"app.kubernetes.io/name": wellknown.DNSName, "app.kubernetes.io/part-of": "meshfed"},
			},
		}
	case err != nil:
		return fmt.Errorf("failed to read ConfigMap %s/%s: %w", wellknown.SystemNamespace, wellknown.DNSTakeoverConfigMap, err)
	default:
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &cm); err != nil {
			return fmt.Errorf("failed to decode ConfigMap %s/%s: %w", wellknown.SystemNamespace, wellknown.DNSTakeoverConfigMap, err)
		}
	}
	next := make(map[string]string, len(confirmed))
	stamp := now().UTC().Format(time.RFC3339)
	for _, name := range confirmed {
		key := strings.TrimSuffix(name, ".")
		if since, ok := cm.Data[key]; ok {
			next[key] = since
		} else {
			next[key] = stamp
		}
	}
	if cm.ResourceVersion != "" && sameKeys(cm.Data, next) {
		return nil
	}
	cm.Data = next
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&cm)
	if err != nil {
		return fmt.Errorf("failed to encode ConfigMap %s/%s: %w", wellknown.SystemNamespace, wellknown.DNSTakeoverConfigMap, err)
	}
	u = &unstructured.Unstructured{Object: obj}
	if cm.ResourceVersion == "" {
		_, err = res.Create(ctx, u, metav1.CreateOptions{})
	} else {
		_, err = res.Update(ctx, u, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("failed to write ConfigMap %s/%s: %w", wellknown.SystemNamespace, wellknown.DNSTakeoverConfigMap, err)
	}
	return nil
}

func sameKeys(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// Options configure Loop.
type Options struct {
	// Resolver is the cluster's DNS, host:port.
	Resolver string
	// Interval is the time between two rounds.
	Interval time.Duration
	// Table returns the table meshfed-dns serves now; nil before the first one.
	Table func() *zone.Table
	// Exchange asks the resolver; nil means UDPExchange.
	Exchange Exchange
	Recorder *Recorder
	Logger   *slog.Logger
}

// Loop confirms and records the taken-over names every Interval until ctx ends. Failures are
// logged when they change and retried next round; they never stop the loop.
func Loop(ctx context.Context, o Options) {
	ex := o.Exchange
	if ex == nil {
		ex = UDPExchange
	}
	tick := time.NewTicker(o.Interval)
	defer tick.Stop()
	var last map[string]string
	lastErr := ""
	for {
		if t := o.Table(); t != nil {
			confirmed, err := Confirm(ctx, t, o.Resolver, ex)
			if err == nil {
				err = o.Recorder.Record(ctx, confirmed)
			}
			if msg := errString(err); msg != lastErr && ctx.Err() == nil {
				if err != nil {
					o.Logger.Warn("takeover check failed; retrying", "resolver", o.Resolver, "error", err)
				}
				lastErr = msg
			}
			now := map[string]string{}
			for _, n := range confirmed {
				now[n] = ""
			}
			if !maps.Equal(now, last) {
				o.Logger.Info("taken-over names the cluster's DNS answers as meshfed-dns", "names", confirmed, "of", len(t.Takeovers()))
				last = now
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
