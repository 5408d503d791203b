package v1alpha1_test

import (
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/framework"
)

// TestCRDValidation applies the generated CRDs to a real API server and checks that it accepts
// good objects with their defaults and rejects bad ones with an Invalid error.
func TestCRDValidation(t *testing.T) {
	c := framework.Start(t, 1, framework.WithScheme(meshfedv1.AddToScheme))[0].Client
	ctx := t.Context()

	mc := func(name, network, segment string) *meshfedv1.MemberCluster {
		return &meshfedv1.MemberCluster{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: meshfedv1.MemberClusterSpec{
				Network: network, Segment: segment,
				KubeconfigSecretRef: meshfedv1.SecretKeyRef{Name: "member-" + name},
			},
		}
	}
	seg := func(name, domain string) *meshfedv1.Segment {
		return &meshfedv1.Segment{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: meshfedv1.SegmentSpec{Domain: domain}}
	}
	gs := func(name string, scope meshfedv1.ServiceScope, td meshfedv1.TrafficDistribution, port int32) *meshfedv1.GlobalService {
		return &meshfedv1.GlobalService{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: meshfedv1.GlobalServiceSpec{
				ServiceName: name, Domain: "mesh.internal", Hostname: name + ".default.mesh.internal",
				Scope: scope, TrafficDistribution: td,
				Ports: []meshfedv1.GlobalServicePort{{Name: "http", Port: port}},
			},
		}
	}

	valid := []client.Object{
		mc("east-1", "net-a", ""),
		seg("blue", ""),
		seg("green", "green.example.com"),
		gs("web", meshfedv1.ServiceScopeGlobal, "PreferClose", 80),
	}
	for _, obj := range valid {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("create valid %T %s: %v", obj, obj.GetName(), err)
		}
	}
	var gotMC meshfedv1.MemberCluster
	if err := c.Get(ctx, client.ObjectKey{Name: "east-1"}, &gotMC); err != nil {
		t.Fatal(err)
	}
	if gotMC.Spec.Segment != wellknown.DefaultSegment || gotMC.Spec.KubeconfigSecretRef.Key != "kubeconfig" {
		t.Errorf("MemberCluster defaults not applied: %+v", gotMC.Spec)
	}
	var gotSeg meshfedv1.Segment
	if err := c.Get(ctx, client.ObjectKey{Name: "blue"}, &gotSeg); err != nil {
		t.Fatal(err)
	}
	if gotSeg.Spec.Domain != wellknown.DefaultSegmentDomain {
		t.Errorf("Segment domain default = %q", gotSeg.Spec.Domain)
	}

	invalid := map[string]client.Object{
		"cluster name not a DNS label":    mc("East_1", "net-a", ""),
		"cluster name too long":           mc("a234567890123456789012345678901234567890123456789012345678901234", "net-a", ""),
		"cluster without network":         mc("west-1", "", ""),
		"network with bad characters":     mc("west-2", "Net A", ""),
		"segment name not a DNS label":    mc("west-3", "net-a", "Blue"),
		"domain with underscore":          seg("red", "bad_domain.example"),
		"domain under cluster.local":      seg("orange", "svc.cluster.local"),
		"unknown scope":                   gs("api", "planet", "", 80),
		"unknown traffic distribution":    gs("db", meshfedv1.ServiceScopeGlobal, "Nearby", 80),
		"port out of range":               gs("cache", meshfedv1.ServiceScopeGlobal, "", 0),
		"segment name over 63 characters": seg("s234567890123456789012345678901234567890123456789012345678901234", ""),
	}
	for name, obj := range invalid {
		t.Run(name, func(t *testing.T) {
			err := c.Create(ctx, obj)
			if !apierrors.IsInvalid(err) {
				t.Fatalf("create %s: err = %v, want Invalid", obj.GetName(), err)
			}
		})
	}
}
