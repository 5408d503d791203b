package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/merge"
	"github.com/meshfed/meshfed/federation/writeback"
)

// mirror brings the hub's GlobalService objects in line with the merge result: create or update
// (spec, then status, each only on change) and delete the ones meshfed owns that no longer merge.
func (f *Federation) mirror(ctx context.Context, o *outcome, wb *writeback.Report) error {
	res, p, ports := &o.res, o.p, o.ports
	problems := map[types.NamespacedName][]member.ServiceValueProblem{}
	for _, pr := range p.problems {
		problems[pr.Service] = append(problems[pr.Service], pr.ServiceValueProblem)
	}
	stale := map[string]bool{}
	for _, s := range p.states {
		stale[s.Cluster.Name] = s.Stale
	}
	want := map[types.NamespacedName]bool{}
	// One GlobalService that cannot be written (its hub namespace being deleted, say) fails
	// alone; the others are still written and the error asks for a retry.
	var errs []error
	for i := range res.Services {
		svc := &res.Services[i]
		g := &svc.Global
		desired := desiredGlobalService(svc, ports, problems[types.NamespacedName{Namespace: g.Namespace, Name: g.Name}], stale)
		setWriteBackStatus(desired, wb.For(merge.KeyOf(g)))
		setTakeoverStatus(desired, wb.For(merge.KeyOf(g)))
		setStoredStatus(desired, o.notWritten[merge.KeyOf(g)])
		want[client.ObjectKeyFromObject(desired)] = true
		if err := f.applyGlobalService(ctx, desired); err != nil {
			errs = append(errs, err)
		}
	}
	var list meshfedv1.GlobalServiceList
	if err := f.hub.List(ctx, &list, client.MatchingLabels{wellknown.ManagedByLabel: wellknown.ManagedByValue}); err != nil {
		return fmt.Errorf("failed to list globalservices: %w", err)
	}
	for i := range list.Items {
		gs := &list.Items[i]
		if want[client.ObjectKeyFromObject(gs)] {
			continue
		}
		if err := f.hub.Delete(ctx, gs); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("failed to delete globalservice %s/%s: %w", gs.Namespace, gs.Name, err))
			continue
		}
		f.log.Info("global service withdrawn", "namespace", gs.Namespace, "name", gs.Name)
	}
	return errors.Join(errs...)
}

func (f *Federation) applyGlobalService(ctx context.Context, desired *meshfedv1.GlobalService) error {
	if err := f.ensureNamespace(ctx, desired.Namespace); err != nil {
		return err
	}
	var cur meshfedv1.GlobalService
	err := f.hub.Get(ctx, client.ObjectKeyFromObject(desired), &cur)
	switch {
	case apierrors.IsNotFound(err):
		status := desired.Status
		if err := f.hub.Create(ctx, desired); err != nil {
			if apierrors.IsNotFound(err) {
				delete(f.namespaces, desired.Namespace) // deleted since: create it again next time
			}
			return fmt.Errorf("failed to create globalservice %s/%s: %w", desired.Namespace, desired.Name, err)
		}
		f.log.Info("global service published", "namespace", desired.Namespace, "name", desired.Name, "hostname", desired.Spec.Hostname)
		desired.Status = status
		return f.hub.Status().Update(ctx, desired)
	case err != nil:
		return fmt.Errorf("failed to get globalservice %s/%s: %w", desired.Namespace, desired.Name, err)
	}
	if cur.Labels[wellknown.ManagedByLabel] != wellknown.ManagedByValue {
		f.log.Warn("globalservice name taken by an object meshfed does not own", "namespace", cur.Namespace, "name", cur.Name)
		return nil
	}
	if !equality.Semantic.DeepEqual(cur.Spec, desired.Spec) || !maps.Equal(cur.Labels, desired.Labels) {
		cur.Spec, cur.Labels = desired.Spec, desired.Labels
		if err := f.hub.Update(ctx, &cur); err != nil {
			return fmt.Errorf("failed to update globalservice %s/%s: %w", cur.Namespace, cur.Name, err)
		}
	}
	next := desired.Status
	for _, c := range cur.Status.Conditions {
		// Keep transition times of conditions that did not change.
		if d := meta.FindStatusCondition(next.Conditions, c.Type); d != nil && d.Status == c.Status {
			d.LastTransitionTime = c.LastTransitionTime
		}
	}
	if equality.Semantic.DeepEqual(cur.Status, next) {
		return nil
	}
	cur.Status = next
	if err := f.hub.Status().Update(ctx, &cur); err != nil {
		return fmt.Errorf("failed to update status of globalservice %s/%s: %w", cur.Namespace, cur.Name, err)
	}
	return nil
}

// ensureNamespace creates the hub namespace of a mirror once per process.
func (f *Federation) ensureNamespace(ctx context.Context, name string) error {
	if f.namespaces[name] {
		return nil
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue}}}
	if err := f.hub.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create hub namespace %s: %w", name, err)
	}
	f.namespaces[name] = true
	return nil
}
