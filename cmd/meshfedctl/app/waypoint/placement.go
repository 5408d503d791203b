package waypoint

import (
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// AntiAffinity says how strongly the waypoint's pods are kept apart, on different nodes first
// and in different zones second.
type AntiAffinity string

// The --anti-affinity values.
const (
	// AntiAffinityPreferred asks the scheduler to spread the pods over nodes (weight 100) and
	// zones (weight 50) and still schedules them when it cannot: a cluster with fewer nodes than
	// replicas, or a rolling update's surge pod, still gets its pods.
	AntiAffinityPreferred AntiAffinity = "preferred"
	// AntiAffinityRequired never puts two pods on one node (zones stay preferred). A Deployment
	// with as many replicas as eligible nodes then cannot surge: its rolling updates wait for
	// a node to free up.
	AntiAffinityRequired AntiAffinity = "required"
	// AntiAffinityNone leaves placement to the scheduler.
	AntiAffinityNone AntiAffinity = "none"
)

// ParseAntiAffinity reads an --anti-affinity value.
func ParseAntiAffinity(s string) (AntiAffinity, error) {
	switch a := AntiAffinity(s); a {
	case AntiAffinityPreferred, AntiAffinityRequired, AntiAffinityNone:
		return a, nil
	}
	return "", fmt.Errorf("invalid --anti-affinity %q: want preferred, required or none", s)
}

// Weights of the preferred anti-affinity terms: being on another node matters more than being
// in another zone.
const (
	nodeSpreadWeight = 100
	zoneSpreadWeight = 50
)

// affinity keeps the waypoint's pods apart when more than one of them can run; nil otherwise.
// The terms select the pods of the waypoint's own namespace only (no namespaces field), so the
// waypoints of different namespaces do not repel each other.
func affinity(a AntiAffinity, maxPods int32, selector map[string]string) *corev1.Affinity {
	if maxPods <= 1 || a == AntiAffinityNone {
		return nil
	}
	term := func(topologyKey string) corev1.PodAffinityTerm {
		return corev1.PodAffinityTerm{
			LabelSelector: &metav1.LabelSelector{MatchLabels: selector},
			TopologyKey:   topologyKey,
		}
	}
	anti := &corev1.PodAntiAffinity{}
	if a == AntiAffinityRequired {
		anti.RequiredDuringSchedulingIgnoredDuringExecution = []corev1.PodAffinityTerm{term(corev1.LabelHostname)}
	} else {
		anti.PreferredDuringSchedulingIgnoredDuringExecution = []corev1.WeightedPodAffinityTerm{
			{Weight: nodeSpreadWeight, PodAffinityTerm: term(corev1.LabelHostname)},
		}
	}
	anti.PreferredDuringSchedulingIgnoredDuringExecution = append(anti.PreferredDuringSchedulingIgnoredDuringExecution,
		corev1.WeightedPodAffinityTerm{Weight: zoneSpreadWeight, PodAffinityTerm: term(corev1.LabelTopologyZone)})
	return &corev1.Affinity{PodAntiAffinity: anti}
}

// ParseNodeSelector reads --node-selector items, each KEY=VALUE with a Kubernetes label key and
// value, into a node selector. The same key twice with different values is an error (a node
// has one value per label).
func ParseNodeSelector(items []string) (map[string]string, error) {
	out := map[string]string{}
	var errs []error
	for _, item := range items {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("invalid --node-selector %q: want KEY=VALUE", item))
			continue
		}
		if err := labelKeyValue(k, v); err != nil {
			errs = append(errs, fmt.Errorf("invalid --node-selector %q: %w", item, err))
			continue
		}
		if old, dup := out[k]; dup && old != v {
			errs = append(errs, fmt.Errorf("invalid --node-selector %q: %s is already %q, and a node has one value per label", item, k, old))
			continue
		}
		out[k] = v
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// taintEffects are the effects a toleration may name.
var taintEffects = []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}

// ParseToleration reads a --toleration value, KEY[=VALUE][:EFFECT], the syntax of a taint in
// kubectl taint: without =VALUE the toleration matches any value of KEY (operator Exists),
// with it only that value (Equal, an empty value included); without :EFFECT it matches every
// effect. A NoExecute toleration has no tolerationSeconds: the pod stays for good.
func ParseToleration(s string) (corev1.Toleration, error) {
	bad := func(format string, args ...any) (corev1.Toleration, error) {
		return corev1.Toleration{}, fmt.Errorf("invalid --toleration %q: "+format, append([]any{s}, args...)...)
	}
	rest, effect := s, ""
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		rest, effect = s[:i], s[i+1:]
		if !validEffect(effect) {
			return bad("effect %q is not NoSchedule, PreferNoSchedule or NoExecute (want KEY[=VALUE][:EFFECT])", effect)
		}
	}
	key, value, equal := strings.Cut(rest, "=")
	if key == "" {
		return bad("missing KEY (want KEY[=VALUE][:EFFECT])")
	}
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		return bad("key %q: %s", key, strings.Join(errs, "; "))
	}
	t := corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffect(effect)}
	if equal {
		if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
			return bad("value %q: %s", value, strings.Join(errs, "; "))
		}
		t.Operator, t.Value = corev1.TolerationOpEqual, value
	}
	return t, nil
}

// ParseTolerations reads every --toleration value, reporting all the bad ones.
func ParseTolerations(items []string) ([]corev1.Toleration, error) {
	var out []corev1.Toleration
	var errs []error
	for _, item := range items {
		t, err := ParseToleration(item)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, t)
	}
	return out, errors.Join(errs...)
}

func validEffect(e string) bool {
	for _, want := range taintEffects {
		if string(want) == e {
			return true
		}
	}
	return false
}

// labelKeyValue checks a label key and value as the API server does.
func labelKeyValue(k, v string) error {
	if errs := validation.IsQualifiedName(k); len(errs) > 0 {
		return fmt.Errorf("key %q: %s", k, strings.Join(errs, "; "))
	}
	if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
		return fmt.Errorf("value %q: %s", v, strings.Join(errs, "; "))
	}
	return nil
}
