package waypoint_test

import (
	"bytes"
	"io"
	"maps"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/waypoint"
)

// TestGatewayObjects: a shared gateway's objects are named meshfed-gateway, select only its
// own pods (which no derived Service selects), tell the hub and the pods the namespaces served,
// and run as the gateway's ServiceAccount.
func TestGatewayObjects(t *testing.T) {
	s := waypoint.Spec{Namespace: "meshfed-system", Cluster: "east-1", CertSecret: wellknown.GatewayCertSecret, Replicas: 2, Serves: []string{"bank", "shop"}}
	selector := map[string]string{wellknown.WaypointPodLabel: wellknown.GatewayName}
	if maps.Equal(selector, wellknown.WaypointSelector()) {
		t.Fatal("the gateway's pod label equals the waypoints': derived Services of its namespace would select it")
	}
	var sawPDB bool
	for _, obj := range waypoint.Objects(s) {
		name := obj.GetName()
		switch o := obj.(type) {
		case *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding:
			if name != "meshfed-gateway-meshfed-system" {
				t.Errorf("%T named %s, want meshfed-gateway-meshfed-system", obj, name)
			}
			if b, ok := o.(*rbacv1.ClusterRoleBinding); ok && (b.Subjects[0].Name != wellknown.GatewayName || b.Subjects[0].Namespace != "meshfed-system") {
				t.Errorf("binding subjects %+v, want the gateway's ServiceAccount", b.Subjects)
			}
			continue
		case *corev1.Service:
			if !maps.Equal(o.Spec.Selector, selector) {
				t.Errorf("Service selector %v, want %v", o.Spec.Selector, selector)
			}
			if got := o.Annotations[wellknown.GatewayNamespacesKey]; got != "bank,shop" {
				t.Errorf("Service annotation %s = %q, want bank,shop", wellknown.GatewayNamespacesKey, got)
			}
		case *appsv1.Deployment:
			pod := o.Spec.Template.Spec
			if !maps.Equal(o.Spec.Selector.MatchLabels, selector) || !maps.Equal(o.Spec.Template.Labels, map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue, wellknown.WaypointPodLabel: wellknown.GatewayName}) {
				t.Errorf("Deployment selector %v, pod labels %v", o.Spec.Selector.MatchLabels, o.Spec.Template.Labels)
			}
			if pod.ServiceAccountName != wellknown.GatewayName {
				t.Errorf("pods run as %s, want %s", pod.ServiceAccountName, wellknown.GatewayName)
			}
			env := map[string]string{}
			for _, e := range pod.Containers[0].Env {
				env[e.Name] = e.Value
			}
			if env[waypoint.GatewayNamespacesEnv] != "bank,shop" {
				t.Errorf("env %s = %q, want bank,shop", waypoint.GatewayNamespacesEnv, env[waypoint.GatewayNamespacesEnv])
			}
			for _, term := range pod.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
				if !maps.Equal(term.PodAffinityTerm.LabelSelector.MatchLabels, selector) {
					t.Errorf("anti-affinity selects %v, want the gateway's pods", term.PodAffinityTerm.LabelSelector.MatchLabels)
				}
			}
		case *policyv1.PodDisruptionBudget:
			sawPDB = true
			if !maps.Equal(o.Spec.Selector.MatchLabels, selector) {
				t.Errorf("budget selects %v, want the gateway's pods", o.Spec.Selector.MatchLabels)
			}
		}
		if name != wellknown.GatewayName {
			t.Errorf("%T named %s, want %s", obj, name, wellknown.GatewayName)
		}
	}
	if !sawPDB {
		t.Error("two replicas and no disruption budget")
	}
}

// TestWaypointObjectsUnchangedByGatewayMode: without --gateway-namespaces nothing names the
// gateway, and no annotation or environment variable of it appears.
func TestWaypointObjectsUnchangedByGatewayMode(t *testing.T) {
	for _, obj := range waypoint.Objects(waypoint.Spec{Namespace: "shop", CertSecret: "certs", Replicas: 2}) {
		if strings.Contains(obj.GetName(), "gateway") || obj.GetAnnotations()[wellknown.GatewayNamespacesKey] != "" {
			t.Errorf("%T %s: a namespace's waypoint carries gateway names", obj, obj.GetName())
		}
		if d, ok := obj.(*appsv1.Deployment); ok {
			for _, e := range d.Spec.Template.Spec.Containers[0].Env {
				if e.Name == waypoint.GatewayNamespacesEnv {
					t.Errorf("a namespace's waypoint is told to serve %q", e.Value)
				}
			}
		}
	}
}

func TestParseServes(t *testing.T) {
	for _, tc := range []struct {
		list    []string
		want    string
		wantErr string
	}{
		{list: []string{"shop", " bank"}, want: "bank,shop"},
		{list: []string{"shop", "shop"}, want: "shop"},
		{list: []string{" * "}, want: "*"},
		{list: []string{"*", "shop"}, wantErr: "whole value"},
		{list: []string{"meshfed-system"}, wantErr: "own namespace"},
		{list: []string{"Shop"}, wantErr: "not a namespace name"},
		{list: []string{"a.b"}, wantErr: "not a namespace name"},
		{list: []string{""}, wantErr: "no namespace"},
	} {
		got, err := waypoint.ParseServes("meshfed-system", tc.list)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want one saying %q", tc.list, err, tc.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != tc.want {
			t.Errorf("%q = %q, %v; want %s", tc.list, got, err, tc.want)
		}
	}
}

// TestApplyGatewayDryRun: the CLI builds a gateway from --gateway-namespaces, with the
// gateway's certificate Secrets by default.
func TestApplyGatewayDryRun(t *testing.T) {
	var out bytes.Buffer
	args := []string{"waypoint", "apply", "-n", "meshfed-system", "--gateway-namespaces", "shop,bank", "--cluster", "east-1",
		"--network", "net-a", "--etcd-endpoints", "https://s:2379", "--dry-run"}
	if err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: &out, ErrOut: io.Discard}, args); err != nil {
		t.Fatal(err)
	}
	y := out.String()
	for _, want := range []string{"name: meshfed-gateway\n", wellknown.GatewayNamespacesKey + ": bank,shop", "secretName: " + wellknown.GatewayCertSecret, "secretName: " + wellknown.GatewayStoreSecret} {
		if !strings.Contains(y, want) {
			t.Errorf("dry run lacks %q", want)
		}
	}
	if strings.Contains(y, "secretName: "+wellknown.WaypointCertSecret) {
		t.Error("dry run mounts the namespace waypoint's certificate Secret")
	}
	bad := []string{"waypoint", "apply", "-n", "meshfed-system", "--gateway-namespaces", "meshfed-system", "--cluster", "c", "--network", "n", "--etcd-endpoints", "http://s:2379", "--dry-run"}
	if err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, bad); err == nil {
		t.Error("a gateway serving its own namespace was accepted")
	}
}
