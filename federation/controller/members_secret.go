package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
)

// secretHandler maps a Secret in the hub namespace to the MemberClusters that reference it, so
// a rotated kubeconfig reconnects its member.
func secretHandler(hub client.Client, namespace string) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		s, ok := obj.(*corev1.Secret)
		if !ok || s.Namespace != namespace {
			return nil
		}
		var list meshfedv1.MemberClusterList
		if err := hub.List(ctx, &list); err != nil {
			return nil
		}
		var out []reconcile.Request
		for i := range list.Items {
			if list.Items[i].Spec.KubeconfigSecretRef.Name == s.Name {
				out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: list.Items[i].Name}})
			}
		}
		return out
	})
}
