package clusters_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/e2e/clusters"
	"github.com/meshfed/meshfed/federation/store"
)

// gatewayNamespaces are the namespaces the shared gateways of sharedGateway serve, and the
// echo service each exports from cluster-3.
var gatewayNamespaces = map[string]string{"bank": "ledger", "pay": "card"}

// gatewayApply runs `meshfedctl waypoint apply --gateway-namespaces` as the README's shared
// gateway step does: one gateway in meshfed-system of cluster c serving bank and pay, its
// HBONE port a NodePort annotated with c's transit address, with extra flags added. It returns
// the HBONE address.
func (u *user) gatewayApply(ctx context.Context, c *clusters.Cluster, extra ...string) string {
	u.t.Helper()
	hub := &u.set.Clusters[0]
	args := append([]string{"waypoint", "apply", "-n", wellknown.SystemNamespace, "--gateway-namespaces", "bank,pay",
		"--hub-context", hub.Name, "--member-context", c.Name, "--cluster", c.Name, "--network", networkOf(c),
		"--etcd-endpoints", u.etcd, "--service-type", "NodePort", "--pod-rps", "250", "--replicas", "1"}, extra...)
	u.run(ctx, "meshfedctl", args...)
	port := strings.TrimSpace(u.run(ctx, "kubectl", "--context", c.Name, "-n", wellknown.SystemNamespace, "get", "service",
		wellknown.GatewayName, "-o", `jsonpath={.spec.ports[?(@.name=="hbone")].nodePort}`))
	addr := c.TransitIP.String() + ":" + port
	u.run(ctx, "kubectl", "--context", c.Name, "-n", wellknown.SystemNamespace, "annotate", "--overwrite", "service",
		wellknown.GatewayName, wellknown.HBONEAddressKey+"="+addr)
	// A cluster reused from an earlier run keeps a pod whose Deployment did not change:
	// restart it so that it loads this run's certificates.
	u.run(ctx, "kubectl", "--context", c.Name, "-n", wellknown.SystemNamespace, "rollout", "restart", "deployment/"+wellknown.GatewayName)
	u.run(ctx, "kubectl", "--context", c.Name, "-n", wellknown.SystemNamespace, "rollout", "status", "deployment/"+wellknown.GatewayName, "--timeout=3m")
	return addr
}

// sharedGateway checks the shared gateway mode on the real clusters: bank and pay exist in
// cluster-1 (network A) and cluster-3 (network B), each exporting one service from cluster-3
// only, and neither has a waypoint of its own. One gateway per cluster serves both namespaces
// (cluster-1's on its dedicated gateway nodes). Then:
//   - the store publishes, for both namespaces in cluster-3, the one HBONE address of
//     cluster-3's gateway with the gateway's identity, and the gateway's store certificate
//     reads those namespaces and nothing else;
//   - cluster-1's derived Services of both select nothing and list the gateway's pod, which
//     cluster-1's kube-proxy routes to;
//   - a pod of cluster-1 reaches both services, answered by cluster-3: the calls cross from
//     network A into network B through cluster-3's gateway, the only address published there.
func (m *mesh) sharedGateway(t *testing.T) {
	ctx := t.Context()
	for ns, svc := range gatewayNamespaces {
		for _, c := range []*clusters.Cluster{m.c1, m.c3} {
			if err := m.set.Apply(ctx, c, "", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n"); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.set.Apply(ctx, m.c3, ns, m.set.EchoDeployment(m.c3, ns, svc, 1)+"---\n"+exportedService(ns, svc)); err != nil {
			t.Fatal(err)
		}
	}
	m.user.gatewayApply(ctx, m.c1, "--node-selector", clusters.GatewayLabel, "--toleration", clusters.GatewayTaint)
	hbone := m.user.gatewayApply(ctx, m.c3)
	for ns, svc := range gatewayNamespaces {
		if err := m.set.Rollout(ctx, m.c3, ns, svc, 3*time.Minute); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("Published", func(t *testing.T) {
		cfg := m.storeConfigOf(t, m.c1, wellknown.SystemNamespace, wellknown.GatewayStoreSecret, "bank")
		wantID := fmt.Sprintf("spiffe://cluster.local/ns/%s/sa/%s", wellknown.SystemNamespace, wellknown.GatewayName)
		for ns := range gatewayNamespaces {
			cfg.Scope = store.NamespacePrefix(ns)
			err := poll(ctx, 2*time.Minute, func() error {
				st, err := store.Connect(ctx, cfg)
				if err != nil {
					return err
				}
				defer func() { _ = st.Close() }()
				l, err := st.List(ctx, store.NamespacePrefix(ns))
				if err != nil {
					return err
				}
				for _, r := range l.Waypoints() {
					if r.Cluster == m.c3.Name {
						if r.Gateway != wellknown.SystemNamespace || r.Identity != wantID || strings.Join(r.Addresses, ",") != hbone {
							return fmt.Errorf("record %+v, want the gateway's address %s and identity %s", r, hbone, wantID)
						}
						return nil
					}
				}
				return fmt.Errorf("no waypoints record of %s in %s", ns, m.c3.Name)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// The gateway's etcd user reads the namespaces it serves, not shop.
		cfg.Scope = store.NamespacePrefix(shopNS)
		st, err := store.Connect(ctx, cfg)
		if err == nil {
			_, err = st.List(ctx, store.NamespacePrefix(shopNS))
			_ = st.Close()
		}
		if !store.IsPermissionDenied(err) {
			t.Errorf("the gateway's store certificate listing %s: %v, want permission denied", shopNS, err)
		}
	})

	t.Run("DerivedServicesSelectTheGateway", func(t *testing.T) {
		pods := m.livePods(t, "-n", wellknown.SystemNamespace, "-l", wellknown.WaypointPodLabel+"="+wellknown.GatewayName)
		if len(pods) != 1 {
			t.Fatalf("%d gateway pods in %s, want 1", len(pods), m.c1.Name)
		}
		for ns, svc := range gatewayNamespaces {
			derived := wellknown.DerivedServiceName(svc)
			err := poll(ctx, 2*time.Minute, func() error {
				sel, err := m.set.Kubectl(ctx, m.c1, nil, "-n", ns, "get", "service", derived, "-o", "jsonpath={.spec.selector}")
				if err != nil {
					return err
				}
				ips, err := m.set.Kubectl(ctx, m.c1, nil, "-n", ns, "get", "endpointslices", "-l", "kubernetes.io/service-name="+derived,
					"-o", "jsonpath={.items[*].endpoints[*].addresses[0]}")
				if err != nil {
					return err
				}
				if strings.TrimSpace(sel) != "" || strings.TrimSpace(ips) != pods[0].Status.PodIP {
					return fmt.Errorf("%s/%s: selector %q, endpoints %q, want none and the gateway pod's %s", ns, derived, sel, ips, pods[0].Status.PodIP)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("CrossNetworkThroughOneAddress", func(t *testing.T) {
		for ns, svc := range gatewayNamespaces {
			url := "http://" + wellknown.DerivedServiceName(svc) + "." + ns + ".svc.cluster.local/"
			var last map[string]int
			err := poll(ctx, 3*time.Minute, func() error {
				last = answers(ctx, m.set, m.c1, m.client, url, 20)
				if last[m.c3.Name] != 20 {
					return fmt.Errorf("answers %v", last)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("requests from %s to %s are not all answered by %s: %v", m.c1.Name, url, m.c3.Name, err)
			}
			t.Logf("%s: %v", url, last)
		}
	})
}

// exportedService is a Service named svc in namespace ns selecting the echo pods of svc,
// exported to every cluster.
func exportedService(ns, svc string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[2]s
  namespace: %[1]s
  labels:
    %[3]s: global
spec:
  selector: {app: %[2]s}
  ports:
    - {name: http, port: 80, targetPort: http}
`, ns, svc, wellknown.ServiceScopeKey)
}
