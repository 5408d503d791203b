package writeback

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/model"
)

// ExportState is what the federation made of one Service that a member exports with an MCS
// ServiceExport.
type ExportState struct {
	// Global is the global service the member's export was merged into; nil when the Service
	// is not exported (no Service, unusable values, not merged yet).
	Global *model.GlobalService
	// Problems are the values on the Service or its Namespace the hub could not use.
	Problems []member.ValueProblem
}

// exportConditions are the Valid, Ready and Conflict conditions of a ServiceExport of
// cluster, whose Service is svc (nil when missing), as the MCS API defines them: Valid says
// whether the export can be exported at all, Ready whether it was merged into a global
// service, Conflict which properties its exporters disagree on — raised on every exporter the
// conflict names.
func exportConditions(cluster string, svc *corev1.Service, st ExportState) []metav1.Condition {
	valid := metav1.Condition{Type: string(mcsv1beta1.ServiceExportConditionValid), Status: metav1.ConditionTrue,
		Reason: string(mcsv1beta1.ServiceExportReasonValid), Message: "the Service can be exported"}
	ready := metav1.Condition{Type: string(mcsv1beta1.ServiceExportConditionReady), Status: metav1.ConditionFalse,
		Reason: string(mcsv1beta1.ServiceExportReasonPending), Message: "the export has not been merged yet"}
	conflict := metav1.Condition{Type: string(mcsv1beta1.ServiceExportConditionConflict), Status: metav1.ConditionFalse,
		Reason: string(mcsv1beta1.ServiceExportReasonNoConflicts), Message: "the exporting clusters agree"}
	failed, invalidType := string(mcsv1beta1.ServiceExportReasonFailed), string(mcsv1beta1.ServiceExportReasonInvalidServiceType)
	switch {
	case svc == nil:
		valid.Status, valid.Reason, valid.Message = metav1.ConditionFalse, string(mcsv1beta1.ServiceExportReasonNoService), "no Service of this name exists in the namespace"
		ready.Reason, ready.Message = failed, "nothing to export"
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		valid.Status, valid.Reason, valid.Message = metav1.ConditionFalse, invalidType, "an ExternalName Service has no endpoints to export"
		ready.Reason, ready.Message = failed, "nothing to export"
	case st.Global == nil && len(st.Problems) > 0:
		valid.Status, valid.Reason, valid.Message = metav1.ConditionFalse, string(st.Problems[0].Reason), st.Problems[0].Message
		ready.Reason, ready.Message = failed, "the Service carries a value the hub cannot use"
	case st.Global != nil:
		ready.Status, ready.Reason = metav1.ConditionTrue, string(mcsv1beta1.ServiceExportReasonExported)
		ready.Message = "exported as " + st.Global.Hostname
		setConflict(&conflict, cluster, st.Global.Conflicts)
	}
	return []metav1.Condition{valid, ready, conflict}
}

// setConflict raises c for the conflicts naming cluster: the reasons joined by commas, the
// messages by semicolons.
func setConflict(c *metav1.Condition, cluster string, conflicts []model.Conflict) {
	var reasons, messages []string
	for _, cf := range conflicts {
		if !slices.Contains(cf.Clusters, cluster) {
			continue
		}
		if !slices.Contains(reasons, string(cf.Reason)) {
			reasons = append(reasons, string(cf.Reason))
		}
		messages = append(messages, cf.Message)
	}
	if len(reasons) == 0 {
		return
	}
	c.Status, c.Reason, c.Message = metav1.ConditionTrue, strings.Join(reasons, ","), strings.Join(messages, "; ")
}

// conditionsEqual compares conditions by type, status, reason and message, in order.
func conditionsEqual(a, b []metav1.Condition) bool {
	return slices.EqualFunc(a, b, func(x, y metav1.Condition) bool {
		return x.Type == y.Type && x.Status == y.Status && x.Reason == y.Reason && x.Message == y.Message
	})
}

// transitionTime keeps the transition time of a condition whose status did not change, and is
// now otherwise.
func transitionTime(cur []metav1.Condition, c metav1.Condition) metav1.Time {
	for _, old := range cur {
		if old.Type == c.Type && old.Status == c.Status {
			return old.LastTransitionTime
		}
	}
	return metav1.Now()
}
