package waypoint

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// minPods is the fewest pods the Deployment runs: its replicas, or the autoscaler's minimum.
func (s Spec) minPods() int32 {
	if s.Autoscale != nil {
		return s.Autoscale.Min
	}
	return s.Replicas
}

// maxPods is the most pods the Deployment runs outside a rolling update.
func (s Spec) maxPods() int32 {
	if s.Autoscale != nil {
		return s.Autoscale.Max
	}
	return s.Replicas
}

// wantsDisruptionBudget: a budget keeps one pod serving through voluntary disruptions (node
// drains, cluster upgrades) whenever at least two run. With a single pod it would block every
// drain of its node, so there is none.
func (s Spec) wantsDisruptionBudget() bool { return s.minPods() > 1 }

// disruptionBudget lets evictions take waypoint pods only while another one is ready. Pods
// that are not ready yet may always be evicted (AlwaysAllow), so a broken rollout never blocks
// a drain.
func disruptionBudget(meta metav1.ObjectMeta, selector map[string]string) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: meta,
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable:               ptr.To(intstr.FromInt32(1)),
			Selector:                   &metav1.LabelSelector{MatchLabels: selector},
			UnhealthyPodEvictionPolicy: ptr.To(policyv1.AlwaysAllow),
		},
	}
}

// autoscaler scales the waypoint Deployment between a.Min and a.Max on its pods' CPU use, in
// percent of their CPU request (the request is the cost of --pod-rps requests/s, so the
// target is the share of that load a pod may carry before another is added).
func autoscaler(a Autoscale, meta metav1.ObjectMeta) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: meta,
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: meta.Name},
			MinReplicas:    ptr.To(a.Min),
			MaxReplicas:    a.Max,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(a.CPUPercent)},
				},
			}},
		},
	}
}

// optionalObjects are the objects of every kind apply may create or not depending on the
// flags, with their names only (name is the waypoint's or the gateway's): apply removes those it
// no longer wants, delete removes them all.
func optionalObjects(ns, name string) []client.Object {
	meta := metav1.ObjectMeta{Name: name, Namespace: ns}
	return []client.Object{
		&policyv1.PodDisruptionBudget{ObjectMeta: meta},
		&autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: meta},
	}
}
