package deploy_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsv1beta1 "sigs.k8s.io/mcs-api/pkg/apis/v1beta1"

	"github.com/meshfed/meshfed/apis/wellknown"
	dnsbin "github.com/meshfed/meshfed/cmd/meshfed-dns/app"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/internal/syncbuf"
)

// TestDNSRunsWithItsRBAC runs meshfed-dns with deploy/dns's arguments as its ServiceAccount, with
// exactly the RBAC deploy/dns grants: it gets ready, answers a ServiceImport's name, and records
// a confirmed takeover in its ConfigMap (creating it, then updating it). Its takeover check asks
// meshfed-dns itself here, which stands in for a CoreDNS already forwarding the name.
func TestDNSRunsWithItsRBAC(t *testing.T) {
	c := framework.Start(t, 1, framework.WithNames("east-1"), framework.WithoutRepoCRDs())[0]
	ctx := t.Context()
	for _, obj := range render(t, "dns") {
		switch obj.GetKind() {
		case "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
			if err := c.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner("meshfed-deploy-test")); err != nil {
				t.Fatalf("apply %s %s: %v", obj.GetKind(), obj.GetName(), err)
			}
		}
	}
	if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	si := &mcsv1alpha1.ServiceImport{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "shop", Name: "web", Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue},
			Annotations: map[string]string{wellknown.TakeoverAnnotation: "true"},
		},
		Spec: mcsv1alpha1.ServiceImportSpec{Type: mcsv1alpha1.ClusterSetIP, IPs: []string{"10.96.0.10"}, Ports: []mcsv1alpha1.ServicePort{{Port: 80}}},
	}
	if err := c.Client.Create(ctx, si); err != nil {
		t.Fatal(err)
	}
	// A Headless import, answered from the hub's MCS EndpointSlice.
	headless := &mcsv1alpha1.ServiceImport{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db", Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue}},
		Spec:       mcsv1alpha1.ServiceImportSpec{Type: mcsv1alpha1.Headless, Ports: []mcsv1alpha1.ServicePort{{Port: 5432}}},
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db-1", Labels: map[string]string{
			wellknown.ManagedByLabel: wellknown.ManagedByValue, mcsv1beta1.LabelServiceName: "db", mcsv1beta1.LabelSourceCluster: "c1",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.1.0.5"}}},
	}
	for _, obj := range []client.Object{headless, slice} {
		if err := c.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}

	dep := deploymentOf(t, "dns", "meshfed-dns")
	o := dnsbin.DefaultOptions()
	fs := pflag.NewFlagSet("meshfed-dns", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(expand(t, dep.Spec.Template.Spec.Containers[0])); err != nil {
		t.Fatal(err)
	}
	o.ListenAddress, o.AdminAddress = "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	o.ShutdownDelay = 0
	o.TakeoverProbe, o.TakeoverProbeInterval = o.ListenAddress, 200*time.Millisecond
	o.Kubeconfig = serviceAccountKubeconfig(t, c, dep.Namespace, dep.Spec.Template.Spec.ServiceAccountName)
	var logs syncbuf.Buffer
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- dnsbin.Run(runCtx, o, slog.New(slog.NewTextHandler(&logs, nil))) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("meshfed-dns: %v", err)
		}
		if strings.Contains(strings.ToLower(logs.String()), "forbidden") {
			t.Errorf("meshfed-dns was refused something deploy/dns should grant it:\n%s", logs.String())
		}
	}()
	waitFor(t, "meshfed-dns ready", func() bool {
		resp, err := http.Get("http://" + o.AdminAddress + "/readyz")
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	req := new(dns.Msg)
	req.SetQuestion("web.shop.svc.clusterset.local.", dns.TypeA)
	resp, err := dns.ExchangeContext(ctx, req, o.ListenAddress)
	if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "10.96.0.10" {
		t.Errorf("web.shop.svc.clusterset.local: %v %v", resp, err)
	}
	req.SetQuestion("db.shop.svc.clusterset.local.", dns.TypeA)
	resp, err = dns.ExchangeContext(ctx, req, o.ListenAddress)
	if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "10.1.0.5" {
		t.Errorf("db.shop.svc.clusterset.local: %v %v", resp, err)
	}

	recorded := func() (map[string]string, bool) {
		var cm corev1.ConfigMap
		err := c.Client.Get(ctx, client.ObjectKey{Namespace: wellknown.SystemNamespace, Name: wellknown.DNSTakeoverConfigMap}, &cm)
		return cm.Data, err == nil
	}
	waitFor(t, "the takeover recorded", func() bool { m, _ := recorded(); _, ok := m["web.shop.svc.cluster.local"]; return ok })
	delete(si.Annotations, wellknown.TakeoverAnnotation)
	if err := c.Client.Update(ctx, si); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the takeover's end recorded", func() bool { m, ok := recorded(); return ok && len(m) == 0 })
}
