package join_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/ctltest"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/federation/member"
	"github.com/meshfed/meshfed/internal/golden"
)

// TestJoinUnjoin drives meshfedctl join and unjoin through the CLI against a real hub and a
// real member API server: join creates both sides and least-privilege credentials the hub
// accepts, a second join changes nothing, and unjoin leaves nothing behind.
func TestJoinUnjoin(t *testing.T) {
	cs := framework.Start(t, 2, framework.WithNames("hub", "east-1"), framework.WithScheme(meshfedv1.AddToScheme))
	hub, mem := cs[0], cs[1]
	ctx := t.Context()
	kubeconfig := mergedKubeconfig(t, cs...)
	joinArgs := []string{"join", "east-1", "--kubeconfig", kubeconfig, "--hub-context", "hub", "--member-context", "east-1", "--network", "net-a", "--region", "eu"}
	checkRefusedBeforeWriting(t, kubeconfig, hub, mem)

	out := run(t, joinArgs...)
	if !strings.Contains(out, "created") || !strings.Contains(out, "verified") {
		t.Fatalf("join output:\n%s", out)
	}
	var mc meshfedv1.MemberCluster
	if err := hub.Client.Get(ctx, client.ObjectKey{Name: "east-1"}, &mc); err != nil {
		t.Fatal(err)
	}
	if mc.Spec.Network != "net-a" || mc.Spec.Region != "eu" || mc.Spec.Segment != "default" || mc.Spec.KubeconfigSecretRef.Name != "member-east-1" {
		t.Errorf("MemberCluster spec %+v", mc.Spec)
	}
	var secret corev1.Secret
	if err := hub.Client.Get(ctx, client.ObjectKey{Namespace: wellknown.SystemNamespace, Name: "member-east-1"}, &secret); err != nil {
		t.Fatal(err)
	}
	checkLeastPrivilege(t, secret.Data[membership.KubeconfigKey])
	var hubNS corev1.Namespace
	if err := hub.Client.Get(ctx, client.ObjectKey{Name: wellknown.SystemNamespace}, &hubNS); err != nil {
		t.Fatal(err)
	}
	if got := membership.Owners(hubNS.Annotations[wellknown.OwnersAnnotation]); !slices.Contains(got, membership.HubOwner) {
		t.Errorf("hub namespace owners %q lack %q: unjoining the hub cluster as a member would delete it", got, membership.HubOwner)
	}

	// Joining again changes nothing.
	out = run(t, joinArgs...)
	if strings.Contains(out, "created") || strings.Contains(out, "updated") || !strings.Contains(out, "still reach") {
		t.Fatalf("second join was not a no-op:\n%s", out)
	}
	var again corev1.Secret
	if err := hub.Client.Get(ctx, client.ObjectKeyFromObject(&secret), &again); err != nil {
		t.Fatal(err)
	}
	if again.ResourceVersion != secret.ResourceVersion {
		t.Error("second join rewrote the hub Secret")
	}

	run(t, "unjoin", "east-1", "--kubeconfig", kubeconfig, "--hub-context", "hub", "--member-context", "east-1")
	gone := []struct {
		c   client.Client
		obj client.Object
	}{
		{hub.Client, &meshfedv1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: "east-1"}}},
		{hub.Client, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: wellknown.SystemNamespace, Name: "member-east-1"}}},
		{mem.Client, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: wellknown.SystemNamespace, Name: membership.MemberServiceAccount}}},
		{mem.Client, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: membership.MemberClusterRole}}},
		{mem.Client, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: membership.MemberClusterRole}}},
	}
	for _, g := range gone {
		if err := g.c.Get(ctx, client.ObjectKeyFromObject(g.obj), g.obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s still there after unjoin (err %v)", g.obj, g.obj.GetName(), err)
		}
	}
	// With no namespace controller in the test API server, a deleted namespace stays
	// Terminating; it must at least be marked for deletion.
	var ns corev1.Namespace
	if err := mem.Client.Get(ctx, client.ObjectKey{Name: wellknown.SystemNamespace}, &ns); err == nil && ns.DeletionTimestamp == nil {
		t.Error("member namespace meshfed-system not deleted")
	}

	// The hub cluster joined as a member of itself shares the namespace of the hub's Secrets:
	// unjoining it keeps that namespace. Before, unjoin deleted it.
	run(t, "join", "self", "--kubeconfig", kubeconfig, "--hub-context", "hub", "--member-context", "hub", "--network", "net-a")
	run(t, "unjoin", "self", "--kubeconfig", kubeconfig, "--hub-context", "hub", "--member-context", "hub")
	if err := hub.Client.Get(ctx, client.ObjectKey{Name: wellknown.SystemNamespace}, &ns); err != nil || ns.DeletionTimestamp != nil {
		t.Errorf("unjoining the hub cluster as a member deleted the hub namespace (err %v)", err)
	}
}

// TestJoinRefusesForeignObjects: an object join would write that meshfed does not own is left
// alone and the join fails naming it.
func TestJoinRefusesForeignObjects(t *testing.T) {
	cs := framework.Start(t, 2, framework.WithNames("hub", "west-1"), framework.WithScheme(meshfedv1.AddToScheme))
	mem := cs[1]
	foreign := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: membership.MemberClusterRole}}
	if err := mem.Client.Create(t.Context(), foreign); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &stderr},
		[]string{"join", "west-1", "--kubeconfig", mergedKubeconfig(t, cs...), "--hub-context", "hub", "--member-context", "west-1", "--network", "net-b"})
	if !errors.Is(err, membership.ErrNotOwned) {
		t.Fatalf("join err = %v, want ErrNotOwned", err)
	}
	var got rbacv1.ClusterRole
	if err := mem.Client.Get(t.Context(), client.ObjectKeyFromObject(foreign), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Rules) != 0 || got.Labels[wellknown.ManagedByLabel] != "" {
		t.Errorf("foreign ClusterRole was changed: %+v", got)
	}
}

// checkRefusedBeforeWriting: a join with a bad name, network or segment, or without both
// contexts, fails with one line per problem before it writes anything on either side. Before,
// join Bad_Name created the member's objects and then failed with the API server's regex.
func checkRefusedBeforeWriting(t *testing.T, kubeconfig string, hub, mem *framework.Cluster) {
	t.Helper()
	lines := [][]string{
		{"join", "Bad_Name", "--hub-context", "hub", "--member-context", "east-1", "--network", "net-a"},
		{"join", "east-1", "--hub-context", "hub", "--member-context", "east-1", "--network", "Net_A", "--segment", "-west"},
		{"join", "east-1", "--hub-context", "hub", "--member-context", "east-1"},
		{"join", "east-1", "--context", "east-1", "--network", "net-a"},
		{"join", "--hub-context", "hub", "--member-context", "east-1", "--network", "net-a"},
		{"join", "east-1", "--hub-context", "hub", "--member-context", "nowhere", "--network", "net-a"},
		{"unjoin", "Bad_Name", "--hub-context", "hub", "--hub-only"},
		{"unjoin", "east-1", "--hub-context", "hub"},
	}
	var out strings.Builder
	for _, l := range lines {
		r := ctltest.Run(t, app.Program, append(append([]string{}, l...), "--kubeconfig", kubeconfig)...)
		out.WriteString(r.Transcript(l...))
		if r.Err == nil {
			t.Errorf("meshfedctl %s succeeded", strings.Join(l, " "))
		}
	}
	golden.Check(t, "join_refused", out.String())
	if err := mem.Client.Get(t.Context(), client.ObjectKey{Name: wellknown.SystemNamespace}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
		t.Errorf("a refused join created namespace %s in the member (err %v)", wellknown.SystemNamespace, err)
	}
	var mcs meshfedv1.MemberClusterList
	if err := hub.Client.List(t.Context(), &mcs); err != nil || len(mcs.Items) != 0 {
		t.Errorf("a refused join left %d MemberClusters on the hub (err %v)", len(mcs.Items), err)
	}
}

// checkLeastPrivilege uses the stored kubeconfig as the hub would: it reads what the hub needs
// and is refused what it does not.
func checkLeastPrivilege(t *testing.T, kubeconfig []byte) {
	t.Helper()
	cfg, err := member.RESTConfigFromKubeconfig(kubeconfig)
	if err != nil {
		t.Fatalf("hub refuses the kubeconfig join wrote: %v", err)
	}
	c, err := membership.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.List(t.Context(), &corev1.ServiceList{}); err != nil {
		t.Errorf("member credentials cannot list services: %v", err)
	}
	if err := c.List(t.Context(), &corev1.SecretList{}); !apierrors.IsForbidden(err) {
		t.Errorf("member credentials list secrets: err = %v, want Forbidden", err)
	}
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args); err != nil {
		t.Fatalf("meshfedctl %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// mergedKubeconfig writes one kubeconfig file holding every cluster's context, named after it.
func mergedKubeconfig(t *testing.T, cs ...*framework.Cluster) string {
	t.Helper()
	merged := clientcmdapi.NewConfig()
	for _, c := range cs {
		data, err := c.Kubeconfig()
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := clientcmd.Load(data)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range cfg.Clusters {
			merged.Clusters[k] = v
		}
		for k, v := range cfg.AuthInfos {
			merged.AuthInfos[k] = v
		}
		for k, v := range cfg.Contexts {
			merged.Contexts[k] = v
		}
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*merged, path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return path
}
