package writeback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/federation/member"
)

// writeExportStatus writes the MCS conditions of every ServiceExport of the member whose
// conditions changed, in name order. It tries them all and returns the joined errors; a write
// raced by a cache update is retried by the next pass.
func (w *memberWriter) writeExportStatus(ctx context.Context, objs *member.Objects, exports map[types.NamespacedName]ExportState) error {
	keys := make([]types.NamespacedName, 0, len(objs.ServiceExports))
	for k := range objs.ServiceExports {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b types.NamespacedName) int { return strings.Compare(a.String(), b.String()) })
	services := make(map[types.NamespacedName]*corev1.Service, len(objs.Services))
	for i := range objs.Services {
		services[client.ObjectKeyFromObject(&objs.Services[i])] = &objs.Services[i]
	}
	var errs []error
	for _, k := range keys {
		se := objs.ServiceExports[k]
		want := exportConditions(w.conn.Name(), services[k], exports[k])
		if conditionsEqual(se.Status.Conditions, want) {
			continue
		}
		next := se.DeepCopy()
		for i := range want {
			want[i].ObservedGeneration = se.Generation
			want[i].LastTransitionTime = transitionTime(se.Status.Conditions, want[i])
		}
		next.Status.Conditions = want
		if err := w.conn.Cluster().GetClient().Status().Update(ctx, next); err != nil {
			if err := w.lagged(err, "update status of", "ServiceExport", next); !errors.Is(err, errLagged) {
				errs = append(errs, err)
			}
			continue
		}
		w.log.Debug("service export status written", "namespace", k.Namespace, "name", k.Name)
	}
	if len(errs) > 0 {
		return fmt.Errorf("failed to write serviceexport status: %w", errors.Join(errs...))
	}
	return nil
}
