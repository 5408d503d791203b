package controller

import (
	"log/slog"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// TestChangeHandlerNodes: an update of a Node that changes none of its labels (a status
// update) is not counted and wakes no pass; a label change, a Node added or deleted, and an
// update of any other kind are.
func TestChangeHandlerNodes(t *testing.T) {
	wakes := 0
	m := NewMembers(nil, MembersOptions{}, slog.New(slog.DiscardHandler), func() { wakes++ })
	mc := &memberConn{}
	h := m.changeHandler(mc)
	node := func(rv, zone string, ready corev1.ConditionStatus) *corev1.Node {
		return &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "n1", ResourceVersion: rv, Labels: map[string]string{wellknown.ZoneLabel: zone}},
			Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}},
		}
	}
	step := func(name string, event func(), counted bool) {
		t.Helper()
		events, woken := mc.events.Load(), wakes
		event()
		if got := mc.events.Load() != events; got != counted || (wakes != woken) != counted {
			t.Errorf("%s: counted %v, woke %v; want %v", name, got, wakes != woken, counted)
		}
	}
	step("node added", func() { h.OnAdd(node("1", "a", corev1.ConditionTrue), true) }, true)
	step("node status update", func() { h.OnUpdate(node("1", "a", corev1.ConditionTrue), node("2", "a", corev1.ConditionFalse)) }, false)
	step("node label change", func() { h.OnUpdate(node("2", "a", corev1.ConditionFalse), node("3", "b", corev1.ConditionFalse)) }, true)
	step("node deleted", func() { h.OnDelete(node("3", "b", corev1.ConditionFalse)) }, true)
	slice := func(rv string) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", ResourceVersion: rv}}
	}
	step("slice update", func() { h.OnUpdate(slice("1"), slice("2")) }, true)
}
