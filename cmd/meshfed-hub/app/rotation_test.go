package app

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/federation/store"
)

// newIdentity creates a second ServiceAccount in the member bound to the hub's ClusterRole and
// returns a kubeconfig with a fresh TokenRequest token for it, once that kubeconfig reads the
// member (RBAC bindings take a moment to apply).
func newIdentity(t *testing.T, m *framework.Cluster, sa string) []byte {
	t.Helper()
	ctx := t.Context()
	for _, obj := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: wellknown.SystemNamespace}},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: membership.MemberClusterRole + "-" + sa},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: membership.MemberClusterRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: wellknown.SystemNamespace}},
		},
	} {
		if err := m.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := kubernetes.NewForConfig(m.Config)
	if err != nil {
		t.Fatal(err)
	}
	ttl := int64(3600)
	tr, err := cs.CoreV1().ServiceAccounts(wellknown.SystemNamespace).CreateToken(ctx, sa,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &ttl}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ca := m.Config.CAData
	if len(ca) == 0 && m.Config.CAFile != "" {
		if ca, err = os.ReadFile(m.Config.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	kc, err := membership.Kubeconfig(m.Name, m.Config.Host, ca, m.Config.Insecure, tr.Status.Token)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := member.RESTConfigFromKubeconfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new identity reads the member", func() (bool, string) {
		err := c.List(ctx, &corev1.ServiceList{}, client.Limit(1))
		return err == nil, fmt.Sprint(err)
	})
	return kc
}

// TestCredentialRotation replaces a member's kubeconfig Secret on the hub with credentials of
// another identity, then revokes the old identity (deleting a ServiceAccount invalidates its
// tokens). The switch is make-before-break: a store watcher sees no deletion and no rewrite of
// the member's endpoints (no stale mark either), and the member keeps being federated — an
// export made after the revocation is published and written back into the member, which only
// the new credentials can do.
func TestCredentialRotation(t *testing.T) {
	env := startHub(t, "east-1", "west-1")
	east := env.members["east-1"]
	export(t, east.Client, "shop", "web", "global", "10.244.1.5")
	export(t, env.members["west-1"].Client, "shop", "web", "global", "10.244.2.5")
	eventually(t, "both members' endpoints", func() (bool, string) {
		got := env.endpointClusters(t, "shop", "web")
		return slices.Equal(got, []string{"east-1", "west-1"}), fmt.Sprint(got)
	})
	kc := newIdentity(t, east, "meshfed-hub-rotated")
	rec := record(t, env, "shop")

	ctx := t.Context()
	var secret corev1.Secret
	if err := env.hub.Client.Get(ctx, client.ObjectKey{Namespace: wellknown.SystemNamespace, Name: membership.SecretName("east-1")}, &secret); err != nil {
		t.Fatal(err)
	}
	secret.Data[membership.KubeconfigKey] = kc
	connected := env.connections("east-1")
	if err := env.hub.Client.Update(ctx, &secret); err != nil {
		t.Fatal(err)
	}
	// Only the hub's log shows that it swapped in a connection with the new credentials,
	// caches synced (a fixed wait was too short on a loaded machine).
	eventually(t, "east-1 reconnected with the new credentials", func() (bool, string) {
		n := env.connections("east-1")
		return n > connected, fmt.Sprintf("%d connections, %d before", n, connected)
	})
	old := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: membership.MemberServiceAccount, Namespace: wellknown.SystemNamespace}}
	if err := east.Client.Delete(ctx, old); err != nil {
		t.Fatal(err)
	}
	// A hub still on the old token fails its probes (every 300ms) and marks east-1 stale.
	time.Sleep(3 * time.Second)

	export(t, east.Client, "shop", "api", "global", "10.244.1.9")
	eventually(t, "an export made after the rotation", func() (bool, string) {
		got := env.endpointClusters(t, "shop", "api")
		return slices.Equal(got, []string{"east-1"}), fmt.Sprint(got)
	})
	env.checkImported(t, "east-1", "shop", "api")
	if s := readyCondition(t, env.hub.Client, "east-1"); s != "True" {
		t.Errorf("east-1 Ready=%s after the rotation", s)
	}
	if r, state := env.endpointsRecord(t, "shop", "web", "east-1"); r == nil || r.Stale {
		t.Errorf("east-1 endpoints of web after the rotation: %s", state)
	}
	if d := rec.deleted(); len(d) != 0 {
		t.Errorf("the rotation deleted %v", d)
	}
	for _, k := range []store.Key{store.ServiceKey("shop", "mesh.internal", "web"), store.EndpointsKey("shop", "mesh.internal", "web", "east-1")} {
		if n := rec.putsOf(k.String()); n != 0 {
			t.Errorf("%s rewritten %d times across the rotation", k, n)
		}
	}
}
