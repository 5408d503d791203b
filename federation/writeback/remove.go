package writeback

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/dns/corefile"
)

// RemoveAll deletes everything the hub wrote into a member — the ServiceImports, MCS
// EndpointSlices and derived Services carrying both write-back labels — through c, a client of that member. It is
// the cleanup for a member that leaves the federation, whose connection the hub no longer
// has, and drops meshfed's block from the member's CoreDNS Corefile. ServiceImports are removed through the v1beta1 API where served, else v1alpha1, and
// skipped on a member that serves neither; c's scheme must know both versions and discovery/v1.
func RemoveAll(ctx context.Context, c client.Client) error {
	var imports mcsv1beta1.ServiceImportList
	err := removeAll(ctx, c, &imports, func() []client.Object { return itemsOf(imports.Items) })
	if meta.IsNoMatchError(err) {
		var legacy mcsv1alpha1.ServiceImportList
		err = removeAll(ctx, c, &legacy, func() []client.Object { return itemsOf(legacy.Items) })
	}
	if err != nil && !meta.IsNoMatchError(err) {
		return err
	}
	var eps discoveryv1.EndpointSliceList
	if err := removeAll(ctx, c, &eps, func() []client.Object { return itemsOf(eps.Items) }); err != nil {
		return err
	}
	var svcs corev1.ServiceList
	if err := removeAll(ctx, c, &svcs, func() []client.Object { return itemsOf(svcs.Items) }); err != nil {
		return err
	}
	// CoreDNS stops forwarding meshfed's names; a member without CoreDNS's ConfigMap has none.
	err = editCorefile(ctx, c, c, corefile.Remove, nil)
	if err != nil && !errors.Is(err, errNoCoreDNS) {
		return err
	}
	return nil
}

// removeAll lists every object carrying both write-back labels into list and deletes each,
// guarded by its UID so that an object recreated meanwhile under the same name is kept.
func removeAll(ctx context.Context, c client.Client, list client.ObjectList, items func() []client.Object) error {
	sel := client.MatchingLabels{wellknown.ManagedByLabel: wellknown.ManagedByValue}
	if err := c.List(ctx, list, sel, client.HasLabels{wellknown.GlobalServiceNameLabel}); err != nil {
		return fmt.Errorf("failed to list written-back objects %T: %w", list, err)
	}
	for _, obj := range items() {
		uid := obj.GetUID()
		if err := c.Delete(ctx, obj, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("failed to delete %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}

// itemsOf returns pointers to the items of a list.
func itemsOf[T any, PT interface {
	*T
	client.Object
}](items []T) []client.Object {
	out := make([]client.Object, len(items))
	for i := range items {
		out[i] = PT(&items[i])
	}
	return out
}
