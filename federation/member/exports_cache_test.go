package member

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/model"
)

// TestExportsCache: over a sequence of changes to a member's objects, Exports through the
// exports cache returns what Exports without it returns (the same exports, endpoints patches
// and problems); a pass in which no Service's objects changed (but for its slices) returns
// the last pass's list, or a copy of it with the exports whose endpoints changed in their
// places; no list returned is modified later; and objects without a resourceVersion are read
// again every pass.
func TestExportsCache(t *testing.T) {
	site := Site{Cluster: "east-1", Network: "net-a", Region: "eu-west-1"}
	objs := thousandServices()
	objs.Services = objs.Services[:40]
	objs.Exported = &ExportsCache{}
	rv := 1
	bump := func(m *metav1.ObjectMeta) {
		rv++
		m.ResourceVersion = fmt.Sprint(rv)
	}
	svc := func(i int) *corev1.Service { return &objs.Services[i] }
	steps := []struct {
		name   string
		change func()
		// same: the exports are the last pass's list itself (no export changed, no patch to
		// clear).
		same bool
	}{
		{"first", func() {}, false},
		{"unchanged", func() {}, true},
		{"a Service's scope changed", func() {
			svc(3).Labels = map[string]string{wellknown.ServiceScopeKey: "cluster"}
			bump(&svc(3).ObjectMeta)
		}, false},
		{"unchanged again", func() {}, true},
		{"a Service's annotation invalid", func() {
			svc(5).Annotations = map[string]string{wellknown.TrafficDistributionKey: "Nearby"}
			bump(&svc(5).ObjectMeta)
		}, false},
		{"a Namespace's network changed", func() {
			ns := objs.Namespaces[svc(7).Namespace]
			ns.Labels = map[string]string{wellknown.NetworkLabel: "net-z"}
			bump(&ns.ObjectMeta)
		}, false},
		{"a Namespace's traffic distribution changed", func() {
			ns := objs.Namespaces[svc(8).Namespace]
			ns.Annotations = map[string]string{wellknown.TrafficDistributionKey: "PreferRegion"}
			bump(&ns.ObjectMeta)
		}, false},
		{"a ServiceExport added", func() {
			s := svc(9)
			s.Labels = nil
			bump(&s.ObjectMeta)
			objs.ServiceExports = map[types.NamespacedName]*mcsv1alpha1.ServiceExport{
				{Namespace: s.Namespace, Name: s.Name}: {ObjectMeta: metav1.ObjectMeta{ResourceVersion: "1"}},
			}
		}, false},
		{"a slice changed", func() {
			s := &objs.EndpointSlices[types.NamespacedName{Namespace: svc(11).Namespace, Name: svc(11).Name}][0]
			s.Endpoints[0].Conditions.Ready = ptr(false)
			bump(&s.ObjectMeta)
		}, false},
		{"unchanged after the slice changed: its patch is not handed out again", func() {}, false},
		{"unchanged since", func() {}, true},
		{"two slices changed", func() {
			for _, i := range []int{12, 13} {
				s := &objs.EndpointSlices[types.NamespacedName{Namespace: svc(i).Namespace, Name: svc(i).Name}][0]
				s.Endpoints = append(s.Endpoints[:0:0], s.Endpoints[1:]...)
				bump(&s.ObjectMeta)
			}
		}, false},
		{"a Service changed after two slices changed: their patches are not handed out again", func() {
			svc(20).Labels = map[string]string{wellknown.ServiceScopeKey: "segment"}
			bump(&svc(20).ObjectMeta)
		}, false},
		{"a Service removed", func() { objs.Services = objs.Services[1:] }, false},
		{"another site", func() { site.Network = "net-b" }, false},
		{"a Service without a resourceVersion", func() { svc(0).ResourceVersion = "" }, false},
		{"unchanged but for that Service", func() {}, false},
	}
	var last any
	derived := &EndpointsCache{} // what Exports without the exports cache derives the endpoints with
	type returned struct {
		step       string
		list, want []model.ClusterExport
	}
	var lists []returned
	for _, st := range steps {
		st.change()
		got, gotProblems := Exports(site, objs)
		plain := *objs
		plain.Derived, plain.Exported = derived, nil
		want, wantProblems := Exports(site, &plain)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotProblems, wantProblems) {
			t.Fatalf("%s: through the exports cache:\n%+v\n%+v\nwant\n%+v\n%+v", st.name, got, gotProblems, want, wantProblems)
		}
		if same := last != nil && len(got) > 0 && reflect.ValueOf(last).Pointer() == reflect.ValueOf(got).Pointer(); same != st.same {
			t.Errorf("%s: the last pass's exports returned: %v, want %v", st.name, same, st.same)
		}
		last = got
		lists = append(lists, returned{step: st.name, list: got, want: slices.Clone(got)})
		for _, l := range lists {
			if !reflect.DeepEqual(l.list, l.want) {
				t.Fatalf("%s: the exports returned at %q were modified", st.name, l.step)
			}
		}
	}
}
