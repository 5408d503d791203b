package member

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// Objects reads every watched object from the synced caches; the Nodes and EndpointSlices are
// shared with the caches and must not be modified. It fails with ErrNotSynced
// before Start has seen the caches sync.
func (c *Connection) Objects(ctx context.Context) (*Objects, error) {
	c.mu.Lock()
	synced := c.synced
	c.mu.Unlock()
	if !synced {
		return nil, fmt.Errorf("failed to read the objects of member %s: %w", c.name, ErrNotSynced)
	}
	r := c.cluster.GetCache()
	var (
		svcs   corev1.ServiceList
		nss    corev1.NamespaceList
		nodes  corev1.NodeList
		slices discoveryv1.EndpointSliceList
	)
	if err := r.List(ctx, &svcs); err != nil {
		return nil, fmt.Errorf("failed to list services of member %s: %w", c.name, err)
	}
	if err := r.List(ctx, &nss); err != nil {
		return nil, fmt.Errorf("failed to list namespaces of member %s: %w", c.name, err)
	}
	// The Nodes and slices are the cache's own objects, not copies (a large Service's slices
	// would cost a deep copy of all its endpoints per pass, a large cluster's Nodes one of each
	// Node's status): nothing that reads Objects modifies them.
	if err := r.List(ctx, &nodes, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("failed to list nodes of member %s: %w", c.name, err)
	}
	if err := r.List(ctx, &slices, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("failed to list endpointslices of member %s: %w", c.name, err)
	}
	objs := &Objects{
		Services:          svcs.Items,
		Namespaces:        make(map[string]*corev1.Namespace, len(nss.Items)),
		ServiceExports:    map[types.NamespacedName]*mcsv1alpha1.ServiceExport{},
		EndpointSlices:    map[types.NamespacedName][]discoveryv1.EndpointSlice{},
		MCSEndpointSlices: map[types.NamespacedName][]*discoveryv1.EndpointSlice{},
		Nodes:             make(map[string]*corev1.Node, len(nodes.Items)),
		Derived:           &c.derived,
		Exported:          &c.exported,
	}
	for i := range nss.Items {
		objs.Namespaces[nss.Items[i].Name] = &nss.Items[i]
	}
	for i := range nodes.Items {
		objs.Nodes[nodes.Items[i].Name] = &nodes.Items[i]
	}
	for i := range slices.Items {
		s := &slices.Items[i]
		if mcs := s.Labels[mcsv1beta1.LabelServiceName]; mcs != "" && s.Labels[wellknown.ManagedByLabel] == wellknown.ManagedByValue {
			key := types.NamespacedName{Namespace: s.Namespace, Name: mcs}
			objs.MCSEndpointSlices[key] = append(objs.MCSEndpointSlices[key], s)
		}
		svc := s.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		key := types.NamespacedName{Namespace: s.Namespace, Name: svc}
		objs.EndpointSlices[key] = append(objs.EndpointSlices[key], *s)
	}
	if c.hasMCS {
		var exports mcsv1alpha1.ServiceExportList
		if err := r.List(ctx, &exports); err != nil {
			return nil, fmt.Errorf("failed to list serviceexports of member %s: %w", c.name, err)
		}
		for i := range exports.Items {
			e := &exports.Items[i]
			objs.ServiceExports[types.NamespacedName{Namespace: e.Namespace, Name: e.Name}] = e
		}
	}
	return objs, nil
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
