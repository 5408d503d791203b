package app

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/e2e/framework"
)

// serviceImport reads the v1beta1 ServiceImport shop/name of a member.
func serviceImport(t *testing.T, m *framework.Cluster, name string) (*mcsv1beta1.ServiceImport, error) {
	t.Helper()
	var si mcsv1beta1.ServiceImport
	if err := m.Client.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: name}, &si); err != nil {
		return nil, err
	}
	return &si, nil
}

// memberService reads the Service shop/name of a member as its API server defaulted it.
func memberService(t *testing.T, m *framework.Cluster, name string) *corev1.Service {
	t.Helper()
	var svc corev1.Service
	if err := m.Client.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: name}, &svc); err != nil {
		t.Fatal(err)
	}
	return &svc
}

// propertiesOf reports whether the import carries the Service's session affinity, affinity
// config, internal traffic policy and traffic distribution, as the MCS conformance suite
// compares them, and what differs.
func propertiesOf(si *mcsv1beta1.ServiceImport, svc *corev1.Service) (bool, string) {
	ok := si.Spec.SessionAffinity == svc.Spec.SessionAffinity &&
		equality.Semantic.DeepEqual(si.Spec.SessionAffinityConfig, svc.Spec.SessionAffinityConfig) &&
		equality.Semantic.DeepEqual(si.Spec.InternalTrafficPolicy, svc.Spec.InternalTrafficPolicy) &&
		equality.Semantic.DeepEqual(si.Spec.TrafficDistribution, svc.Spec.TrafficDistribution)
	return ok, fmt.Sprintf("import affinity %q %+v policy %v distribution %v; service %q %+v %v %v",
		si.Spec.SessionAffinity, si.Spec.SessionAffinityConfig, deref(si.Spec.InternalTrafficPolicy), deref(si.Spec.TrafficDistribution),
		svc.Spec.SessionAffinity, svc.Spec.SessionAffinityConfig, deref(svc.Spec.InternalTrafficPolicy), deref(svc.Spec.TrafficDistribution))
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// exportConflict is the Conflict condition of a member's ServiceExport shop/name as
// "Status/Reason".
func exportConflict(t *testing.T, m *framework.Cluster, name string) string {
	t.Helper()
	var se mcsv1beta1.ServiceExport
	if err := m.Client.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: name}, &se); err != nil {
		return err.Error()
	}
	c := meta.FindStatusCondition(se.Status.Conditions, string(mcsv1beta1.ServiceExportConditionConflict))
	if c == nil {
		return "no Conflict condition"
	}
	return string(c.Status) + "/" + c.Reason
}

// TestServiceImportProperties: the ServiceImport carries the exported Service's session
// affinity (and its config), internal traffic policy and traffic distribution in every
// member. A younger export that disagrees does not change them and raises Conflict on both
// ServiceExports with the MCS reasons. With the oldest exporter's API server down, a hub
// restart keeps its properties from the store.
func TestServiceImportProperties(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	east, west := env.members["east-1"], env.members["west-1"]
	timeout, preferClose := int32(10), "PreferClose"
	cluster, local := corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal
	port := []corev1.ServicePort{{Name: "tcp", Port: 42, Protocol: corev1.ProtocolTCP}}
	// The suite creates its namespace in every cluster; a member imports only into a
	// namespace it has.
	if err := east.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	mcsExport(t, west, "sticky", corev1.ServiceSpec{
		Ports: port, SessionAffinity: corev1.ServiceAffinityClientIP, InternalTrafficPolicy: &cluster, TrafficDistribution: &preferClose,
		SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &timeout}},
	})
	oldest := memberService(t, west, "sticky")
	for _, m := range []*framework.Cluster{east, west} {
		eventually(t, "the ServiceImport in "+m.Name+" carries west-1's properties", func() (bool, string) {
			si, err := serviceImport(t, m, "sticky")
			if err != nil {
				return false, err.Error()
			}
			return propertiesOf(si, oldest)
		})
	}

	// Creation times have seconds granularity: make east-1's export the younger one.
	time.Sleep(1100 * time.Millisecond)
	mcsExport(t, east, "sticky", corev1.ServiceSpec{
		Ports: port, SessionAffinity: corev1.ServiceAffinityNone, InternalTrafficPolicy: &local, TrafficDistribution: &preferClose,
	})
	const want = "True/InternalTrafficPolicyConflict,SessionAffinityConflict"
	for _, m := range []*framework.Cluster{east, west} {
		eventually(t, "Conflict on "+m.Name+"'s ServiceExport", func() (bool, string) {
			got := exportConflict(t, m, "sticky")
			return got == want, got
		})
	}
	si, err := serviceImport(t, east, "sticky")
	if err != nil {
		t.Fatal(err)
	}
	if ok, state := propertiesOf(si, oldest); !ok {
		t.Errorf("the younger export changed the import: %s", state)
	}

	// west-1 goes down and the hub restarts: west-1's export comes from the store's record.
	rec, ok := env.service(t, "shop", "sticky")
	if !ok || rec.Properties == nil || rec.Properties.SessionAffinity != "ClientIP" {
		t.Fatalf("store record properties %+v, want west-1's", rec)
	}
	env.stop()
	if err := west.Stop(); err != nil {
		t.Fatal(err)
	}
	env.startHubProcess(t)
	mcsExport(t, east, "probe", corev1.ServiceSpec{Ports: port})
	eventually(t, "a pass of the restarted hub imports shop/probe in east-1", func() (bool, string) {
		_, err := serviceImport(t, east, "probe")
		return err == nil, fmt.Sprint(err)
	})
	si, err = serviceImport(t, east, "sticky")
	if err != nil {
		t.Fatal(err)
	}
	if ok, state := propertiesOf(si, oldest); !ok {
		t.Errorf("with west-1 down, the import lost its properties: %s", state)
	}
	if got := exportConflict(t, east, "sticky"); got != want {
		t.Errorf("with west-1 down, east-1's Conflict is %s, want %s", got, want)
	}
}

// TestServiceImportPortSetsAndFamilies: exports whose port sets differ without clashing (one
// adds an SCTP port, the other a UDP one) give the union and Conflict=True/PortConflict on
// both ServiceExports, as the MCS conformance suite expects; a headless import carries the
// exported Service's IP families and no IPs.
func TestServiceImportPortSetsAndFamilies(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	east, west := env.members["east-1"], env.members["west-1"]
	tcp := corev1.ServicePort{Name: "tcp", Port: 42, Protocol: corev1.ProtocolTCP}
	udp := corev1.ServicePort{Name: "udp", Port: 42, Protocol: corev1.ProtocolUDP}
	sctp := corev1.ServicePort{Name: "stcp", Port: 142, Protocol: corev1.ProtocolSCTP}
	mcsExport(t, east, "hello", corev1.ServiceSpec{Ports: []corev1.ServicePort{tcp, udp}})
	mcsExport(t, west, "hello", corev1.ServiceSpec{Ports: []corev1.ServicePort{tcp, sctp}})
	for _, m := range []*framework.Cluster{east, west} {
		eventually(t, "PortConflict on "+m.Name+"'s ServiceExport", func() (bool, string) {
			got := exportConflict(t, m, "hello")
			return got == "True/PortConflict", got
		})
	}
	eventually(t, "the union of the ports on east-1's ServiceImport", func() (bool, string) {
		si, err := serviceImport(t, east, "hello")
		if err != nil {
			return false, err.Error()
		}
		var got []string
		for _, p := range si.Spec.Ports {
			got = append(got, fmt.Sprintf("%s/%d/%s", p.Name, p.Port, p.Protocol))
		}
		slices.Sort(got)
		return slices.Equal(got, []string{"stcp/142/SCTP", "tcp/42/TCP", "udp/42/UDP"}), fmt.Sprint(got)
	})

	// Giving both the same ports clears the conflict.
	update(t, east.Client, "shop", "hello", func(s *corev1.Service) { s.Spec.Ports = []corev1.ServicePort{tcp, sctp} })
	for _, m := range []*framework.Cluster{east, west} {
		eventually(t, "no conflict on "+m.Name+"'s ServiceExport", func() (bool, string) {
			got := exportConflict(t, m, "hello")
			return got == "False/NoConflicts", got
		})
	}

	mcsExport(t, east, "db", corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{tcp}})
	families := memberService(t, east, "db").Spec.IPFamilies
	if len(families) == 0 {
		t.Fatal("the API server gave the headless Service no IP families")
	}
	for _, m := range []*framework.Cluster{east, west} {
		eventually(t, "a Headless import with the Service's IP families in "+m.Name, func() (bool, string) {
			si, err := serviceImport(t, m, "db")
			if err != nil {
				return false, err.Error()
			}
			return si.Spec.Type == mcsv1beta1.Headless && slices.Equal(si.Spec.IPFamilies, families) && len(si.Spec.IPs) == 0,
				fmt.Sprintf("type %s families %v ips %v", si.Spec.Type, si.Spec.IPFamilies, si.Spec.IPs)
		})
	}
}
