package member

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// ValueProblem is a value in a member cluster the hub cannot use. It is reported as a Warning Event
// on the Service and a reason on the GlobalService; it never stops anything else.
type ValueProblem struct {
	Reason  meshfedv1.GlobalServiceConditionReason
	Message string
}

// Export is what a Service's labels, annotations, Namespace and ServiceExport ask for.
type Export struct {
	// Exported is false when nothing asks for an export or the scope value is invalid.
	Exported bool
	Scope    model.Scope
	Takeover bool
	// Problems lists every unusable value met on the way, in the order read.
	Problems []ValueProblem
}

// ReadExport decides whether and how a Service is exported. Precedence, first match wins:
// the Service's own scope, an MCS ServiceExport next to it (scope global), its Namespace's scope.
// On one object the meshfed.io key beats the solo.io alias and an annotation beats a label. An
// unknown scope value makes the Service not exported (it does not fall through to a wider
// default), with a ValueProblem. Takeover follows the same Service-over-Namespace rule and is implied
// by global-only unless set to "false".
func ReadExport(svc *corev1.Service, ns *corev1.Namespace, hasServiceExport bool) Export {
	var out Export
	scope, from, found := lookup(&svc.ObjectMeta, wellknown.ServiceScopeKey, wellknown.ServiceScopeAliasKey)
	switch {
	case found:
	case hasServiceExport:
		scope, from, found = string(model.ScopeGlobal), "ServiceExport", true
	case ns != nil:
		scope, from, found = lookup(&ns.ObjectMeta, wellknown.ServiceScopeKey, wellknown.ServiceScopeAliasKey)
	}
	if !found {
		return out
	}
	sc, err := model.ParseScope(scope)
	if err != nil {
		out.Problems = append(out.Problems, ValueProblem{
			Reason:  meshfedv1.GlobalServiceReasonInvalidScope,
			Message: fmt.Sprintf("%s: %v; the Service is not exported", from, err),
		})
		return out
	}
	out.Exported, out.Scope = true, sc
	out.Takeover, out.Problems = readTakeover(svc, ns, sc, out.Problems)
	return out
}

func readTakeover(svc *corev1.Service, ns *corev1.Namespace, sc model.Scope, problems []ValueProblem) (bool, []ValueProblem) {
	metas := []*metav1.ObjectMeta{&svc.ObjectMeta}
	if ns != nil {
		metas = append(metas, &ns.ObjectMeta)
	}
	for _, m := range metas {
		v, from, ok := lookup(m, wellknown.ServiceTakeoverKey, wellknown.ServiceTakeoverAliasKey)
		if !ok {
			continue
		}
		switch v {
		case "true":
			return true, problems
		case "false":
			return false, problems
		}
		problems = append(problems, ValueProblem{
			Reason:  meshfedv1.GlobalServiceReasonInvalidTakeover,
			Message: fmt.Sprintf("%s: takeover value %q is neither \"true\" nor \"false\"; ignored", from, v),
		})
	}
	return sc == model.ScopeGlobalOnly, problems
}

// lookup finds the first of keys on an object, annotation before label for each key, and says
// where it was found for messages.
func lookup(m *metav1.ObjectMeta, keys ...string) (value, from string, found bool) {
	kind := "Service"
	if m.Namespace == "" {
		kind = "Namespace"
	}
	for _, k := range keys {
		if v, ok := m.Annotations[k]; ok {
			return v, fmt.Sprintf("%s %s annotation %s", kind, m.Name, k), true
		}
		if v, ok := m.Labels[k]; ok {
			return v, fmt.Sprintf("%s %s label %s", kind, m.Name, k), true
		}
	}
	return "", "", false
}
