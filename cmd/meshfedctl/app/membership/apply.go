package membership

import (
	"context"
	"errors"
	"fmt"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// ErrNotOwned is returned when an object join would write exists without meshfed's
// managed-by label: meshfed never overwrites what it does not own.
var ErrNotOwned = errors.New("object exists and is not managed by meshfed")

// Ensure creates desired or brings the existing object to it, printing what happened. A
// Namespace that exists already without meshfed's managed-by label is shared, never taken over;
// any other object that exists without it fails with ErrNotOwned. A non-empty owner (a JoinID)
// is added to the object's wellknown.OwnersAnnotation, so that unjoin knows which joins still
// use it.
func Ensure(ctx context.Context, c client.Client, side string, desired client.Object, owner string, out io.Writer) error {
	var res controllerutil.OperationResult
	// The hub writes a MemberCluster's status while join brings its spec up to date: read it
	// again and retry when the update lost that race.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() (err error) {
		res, err = ensureOnce(ctx, c, desired, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("failed to apply %s %s in %s: %w", kindOf(desired), key(desired), side, err)
	}
	_, err = fmt.Fprintf(out, "%-7s %s/%s %s\n", side, kindOf(desired), key(desired), res)
	return err
}

// ensureOnce is one read and write of Ensure.
func ensureOnce(ctx context.Context, c client.Client, desired client.Object, owner string) (controllerutil.OperationResult, error) {
	obj, ok := desired.DeepCopyObject().(client.Object)
	if !ok {
		return controllerutil.OperationResultNone, fmt.Errorf("failed to copy %T", desired)
	}
	return controllerutil.CreateOrUpdate(ctx, c, obj, func() error {
		managed := obj.GetLabels()[wellknown.ManagedByLabel] == wellknown.ManagedByValue
		if _, isNS := obj.(*corev1.Namespace); isNS && obj.GetResourceVersion() != "" && !managed {
			return nil
		}
		if obj.GetResourceVersion() != "" && !managed {
			return fmt.Errorf("%w: %s %s", ErrNotOwned, kindOf(obj), key(obj))
		}
		if owner != "" {
			obj.SetAnnotations(addOwner(obj.GetAnnotations(), owner))
		}
		return copyContent(obj, desired)
	})
}

// copyContent copies the fields join manages from desired into obj.
func copyContent(obj, desired client.Object) error {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	for k, v := range desired.GetLabels() {
		labels[k] = v
	}
	obj.SetLabels(labels)
	if len(desired.GetAnnotations()) > 0 {
		annotations := obj.GetAnnotations()
		if annotations == nil {
			annotations = map[string]string{}
		}
		for k, v := range desired.GetAnnotations() {
			annotations[k] = v
		}
		obj.SetAnnotations(annotations)
	}
	switch d := desired.(type) {
	case *corev1.Namespace, *corev1.ServiceAccount:
	case *rbacv1.ClusterRole:
		obj.(*rbacv1.ClusterRole).Rules = d.Rules
	case *rbacv1.ClusterRoleBinding:
		o := obj.(*rbacv1.ClusterRoleBinding)
		o.RoleRef, o.Subjects = d.RoleRef, d.Subjects
	case *rbacv1.Role:
		obj.(*rbacv1.Role).Rules = d.Rules
	case *rbacv1.RoleBinding:
		o := obj.(*rbacv1.RoleBinding)
		o.RoleRef, o.Subjects = d.RoleRef, d.Subjects
	case *corev1.Secret:
		o := obj.(*corev1.Secret)
		o.Type, o.Data = d.Type, d.Data
	case *meshfedv1.MemberCluster:
		obj.(*meshfedv1.MemberCluster).Spec = d.Spec
	case *appsv1.Deployment:
		obj.(*appsv1.Deployment).Spec = d.Spec
	case *corev1.Service:
		o := obj.(*corev1.Service)
		o.Spec.Ports, o.Spec.Selector = d.Spec.Ports, d.Spec.Selector
	default:
		return fmt.Errorf("join does not manage %T", desired)
	}
	return nil
}

// Remove deletes obj if it exists and meshfed owns it, printing what happened.
func Remove(ctx context.Context, c client.Client, side string, obj client.Object, out io.Writer) error {
	err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	switch {
	case apierrors.IsNotFound(err):
		_, err = fmt.Fprintf(out, "%-7s %s/%s absent\n", side, kindOf(obj), key(obj))
		return err
	case err != nil:
		return fmt.Errorf("failed to get %s %s in %s: %w", kindOf(obj), key(obj), side, err)
	}
	if obj.GetLabels()[wellknown.ManagedByLabel] != wellknown.ManagedByValue {
		_, err = fmt.Fprintf(out, "%-7s %s/%s kept (not managed by meshfed)\n", side, kindOf(obj), key(obj))
		return err
	}
	if err := c.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to delete %s %s in %s: %w", kindOf(obj), key(obj), side, err)
	}
	_, err = fmt.Fprintf(out, "%-7s %s/%s deleted\n", side, kindOf(obj), key(obj))
	return err
}

func key(obj client.Object) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *corev1.Namespace:
		return "Namespace"
	case *corev1.ServiceAccount:
		return "ServiceAccount"
	case *rbacv1.ClusterRole:
		return "ClusterRole"
	case *rbacv1.ClusterRoleBinding:
		return "ClusterRoleBinding"
	case *rbacv1.Role:
		return "Role"
	case *rbacv1.RoleBinding:
		return "RoleBinding"
	case *corev1.Secret:
		return "Secret"
	case *meshfedv1.MemberCluster:
		return "MemberCluster"
	case *appsv1.Deployment:
		return "Deployment"
	case *corev1.Service:
		return "Service"
	case *policyv1.PodDisruptionBudget:
		return "PodDisruptionBudget"
	case *autoscalingv2.HorizontalPodAutoscaler:
		return "HorizontalPodAutoscaler"
	default:
		return fmt.Sprintf("%T", obj)
	}
}
