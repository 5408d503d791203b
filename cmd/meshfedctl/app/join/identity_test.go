package join_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/e2e/framework"
)

// TestJoinOneIdentityPerCluster drives join and unjoin against two real hubs and one real
// member. Before, a second name for the same cluster was accepted, another --network silently
// moved the member, no ClusterProperty was written, and unjoining one join deleted the
// ServiceAccount, RBAC and imports the other join still used.
func TestJoinOneIdentityPerCluster(t *testing.T) {
	cs := framework.Start(t, 3, framework.WithNames("hub", "hub-2", "east-1"), framework.WithScheme(meshfedv1.AddToScheme))
	hub, hub2, mem := cs[0], cs[1], cs[2]
	installClusterPropertyCRD(t, mem)
	kubeconfig := mergedKubeconfig(t, cs...)
	join := func(hubCtx, name string, extra ...string) (string, error) {
		return runErr(t, append([]string{"join", name, "--kubeconfig", kubeconfig, "--hub-context", hubCtx, "--member-context", "east-1", "--network", "net-a"}, extra...)...)
	}
	unjoin := func(hubCtx, name string) string {
		return run(t, "unjoin", name, "--kubeconfig", kubeconfig, "--hub-context", hubCtx, "--member-context", "east-1")
	}
	id := clusterID(t, mem.Client)

	out, err := join("hub", "east-1")
	if err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	if got := propertyValue(t, mem.Client); got != id {
		t.Errorf("ClusterProperty %s = %q, want the kube-system UID %s", wellknown.ClusterIDProperty, got, id)
	}
	if mc := memberCluster(t, hub.Client, "east-1"); mc.Annotations[wellknown.ClusterIDAnnotation] != id {
		t.Errorf("MemberCluster annotations %v, want cluster ID %s", mc.Annotations, id)
	}

	// The same cluster under another name is refused, naming the member, and nothing is written.
	out, err = join("hub", "alias")
	if !errors.Is(err, membership.ErrDuplicateCluster) || !strings.Contains(err.Error(), "already member east-1") {
		t.Fatalf("join alias: err = %v, want ErrDuplicateCluster naming east-1\n%s", err, out)
	}
	if err := hub.Client.Get(t.Context(), client.ObjectKey{Name: "alias"}, &meshfedv1.MemberCluster{}); !apierrors.IsNotFound(err) {
		t.Errorf("refused join created MemberCluster alias (err %v)", err)
	}
	if got := owners(t, mem.Client); len(got) != 1 {
		t.Errorf("refused join marked the member's ServiceAccount: owners %q", got)
	}

	checkForcedMove(t, hub.Client, join)

	// The same cluster joined into a second hub is a second join; unjoining it keeps what the
	// first join (and its hub) still use.
	if out, err := join("hub-2", "east-1"); err != nil {
		t.Fatalf("join into hub-2: %v\n%s", err, out)
	}
	if got := owners(t, mem.Client); len(got) != 2 {
		t.Fatalf("owners after two joins = %q, want 2", got)
	}
	if mc := memberCluster(t, hub2.Client, "east-1"); mc.Annotations[wellknown.ClusterIDAnnotation] != id {
		t.Errorf("hub-2 MemberCluster annotations %v, want cluster ID %s", mc.Annotations, id)
	}
	derived := writtenBackService(t, mem.Client)
	out = unjoin("hub-2", "east-1")
	if !strings.Contains(out, "kept (still used by") {
		t.Errorf("unjoin from hub-2 did not report shared objects kept:\n%s", out)
	}
	for _, obj := range memberObjects(derived) {
		if err := mem.Client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Errorf("unjoin of the hub-2 join removed %T %s that the hub join uses: %v", obj, obj.GetName(), err)
		}
	}
	if got := propertyValue(t, mem.Client); got != id {
		t.Errorf("unjoin of the hub-2 join removed the ClusterProperty (value %q)", got)
	}
	if got := owners(t, mem.Client); len(got) != 1 || !strings.HasPrefix(got[0], "east-1@") {
		t.Errorf("owners after unjoin from hub-2 = %q, want the hub's join only", got)
	}
	if _, err := runErr(t, "unjoin", "east-1", "--kubeconfig", kubeconfig, "--hub-context", "hub", "--member-context", "hub-2"); !errors.Is(err, membership.ErrOtherCluster) {
		t.Errorf("unjoin with another cluster as member context: err = %v, want ErrOtherCluster", err)
	}

	// The last unjoin removes everything, the hub's imports and the ClusterProperty included.
	unjoin("hub", "east-1")
	for _, obj := range memberObjects(derived) {
		if err := mem.Client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
			if ns, ok := obj.(*corev1.Namespace); ok && ns.DeletionTimestamp != nil {
				continue // no namespace controller here: Terminating is deleted
			}
			t.Errorf("%T %s still there after the last unjoin (err %v)", obj, obj.GetName(), err)
		}
	}
	if got := propertyValue(t, mem.Client); got != "" {
		t.Errorf("ClusterProperty meshfed wrote still there after the last unjoin: %q", got)
	}
	finalizeNamespace(t, mem, wellknown.SystemNamespace)
	checkForeignPropertyKept(t, mem.Client, join, unjoin)
}

// finalizeNamespace completes the deletion of a Terminating namespace, as the namespace
// controller (not running with a bare API server) would once it is empty.
func finalizeNamespace(t *testing.T, c *framework.Cluster, name string) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns.Spec.Finalizers = nil
	if _, err := cs.CoreV1().Namespaces().Finalize(t.Context(), ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := cs.CoreV1().Namespaces().Get(t.Context(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s still there after finalizing (err %v)", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkForcedMove: another --network for an existing member is refused and changes nothing;
// with --force it is made, printed, and recorded as a Warning Event on the MemberCluster.
func checkForcedMove(t *testing.T, hub client.Client, join func(string, string, ...string) (string, error)) {
	t.Helper()
	out, err := join("hub", "east-1", "--network", "net-b", "--segment", "west")
	if !errors.Is(err, membership.ErrChangeRefused) || !strings.Contains(err.Error(), "network net-a -> net-b") {
		t.Fatalf("join with another network: err = %v, want ErrChangeRefused naming the change\n%s", err, out)
	}
	if mc := memberCluster(t, hub, "east-1"); mc.Spec.Network != "net-a" || mc.Spec.Segment != "default" {
		t.Fatalf("refused join moved the member: %+v", mc.Spec)
	}
	out, err = join("hub", "east-1", "--network", "net-b", "--segment", "west", "--force")
	if err != nil {
		t.Fatalf("forced join: %v\n%s", err, out)
	}
	if !strings.Contains(out, "network net-a -> net-b (forced)") || !strings.Contains(out, "segment default -> west (forced)") {
		t.Errorf("forced join did not print the changes:\n%s", out)
	}
	mc := memberCluster(t, hub, "east-1")
	if mc.Spec.Network != "net-b" || mc.Spec.Segment != "west" {
		t.Errorf("forced join: spec %+v", mc.Spec)
	}
	var events corev1.EventList
	if err := hub.List(t.Context(), &events, client.InNamespace(metav1.NamespaceDefault)); err != nil {
		t.Fatal(err)
	}
	found := slices.ContainsFunc(events.Items, func(e corev1.Event) bool {
		return e.InvolvedObject.Kind == "MemberCluster" && e.InvolvedObject.UID == mc.UID && e.Reason == membership.ReasonForcedChange &&
			e.Type == corev1.EventTypeWarning && strings.Contains(e.Message, "network net-a -> net-b")
	})
	if !found {
		t.Errorf("no ForcedChange Event on MemberCluster east-1: %+v", events.Items)
	}
	// Back where the rest of the test expects it.
	if out, err := join("hub", "east-1", "--force"); err != nil {
		t.Fatalf("forced join back: %v\n%s", err, out)
	}
}

// checkForeignPropertyKept: a ClusterProperty meshfed did not write is never overwritten; a
// value other than the cluster ID is reported; unjoin leaves it.
func checkForeignPropertyKept(t *testing.T, c client.Client, join func(string, string, ...string) (string, error), unjoin func(string, string) string) {
	t.Helper()
	foreign := &unstructured.Unstructured{}
	foreign.SetGroupVersionKind(membership.ClusterPropertyKind)
	foreign.SetName(wellknown.ClusterIDProperty)
	if err := unstructured.SetNestedField(foreign.Object, "set-by-another-mcs", "spec", "value"); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(t.Context(), foreign); err != nil {
		t.Fatal(err)
	}
	out, err := join("hub", "east-1")
	if err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	if !strings.Contains(out, `kept: its value "set-by-another-mcs" is not the cluster ID`) {
		t.Errorf("join did not report the ClusterProperty mismatch:\n%s", out)
	}
	unjoin("hub", "east-1")
	if got := propertyValue(t, c); got != "set-by-another-mcs" {
		t.Errorf("ClusterProperty not meshfed's was changed or removed: %q", got)
	}
}

// installClusterPropertyCRD installs deploy/mcs's ClusterProperty CRD and waits until it is
// served.
func installClusterPropertyCRD(t *testing.T, c *framework.Cluster) {
	t.Helper()
	root, err := framework.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "deploy", "mcs", "about.k8s.io_clusterproperties.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	crds, err := framework.DecodeCRDs(data)
	if err != nil || len(crds) != 1 {
		t.Fatalf("decode ClusterProperty CRD: %d CRDs, err %v", len(crds), err)
	}
	if err := c.Client.Create(t.Context(), crds[0]); err != nil {
		t.Fatal(err)
	}
	mc, err := membership.NewClient(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(membership.ClusterPropertyKind.GroupVersion().WithKind("ClusterPropertyList"))
	deadline := time.Now().Add(30 * time.Second)
	for mc.List(t.Context(), list) != nil {
		if time.Now().After(deadline) {
			t.Fatal("ClusterProperty CRD not served after 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func clusterID(t *testing.T, c client.Client) string {
	t.Helper()
	var ns corev1.Namespace
	if err := c.Get(t.Context(), client.ObjectKey{Name: wellknown.ClusterIDNamespace}, &ns); err != nil {
		t.Fatal(err)
	}
	return string(ns.UID)
}

// propertyValue is the member's ClusterProperty cluster.clusterset.k8s.io value, "" if none.
func propertyValue(t *testing.T, c client.Client) string {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(membership.ClusterPropertyKind)
	err := c.Get(t.Context(), client.ObjectKey{Name: wellknown.ClusterIDProperty}, u)
	if apierrors.IsNotFound(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := unstructured.NestedString(u.Object, "spec", "value")
	return v
}

func memberCluster(t *testing.T, c client.Client, name string) *meshfedv1.MemberCluster {
	t.Helper()
	var mc meshfedv1.MemberCluster
	if err := c.Get(t.Context(), client.ObjectKey{Name: name}, &mc); err != nil {
		t.Fatal(err)
	}
	return &mc
}

// owners are the joins marked on the hub's ServiceAccount in the member.
func owners(t *testing.T, c client.Client) []string {
	t.Helper()
	var sa corev1.ServiceAccount
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: wellknown.SystemNamespace, Name: membership.MemberServiceAccount}, &sa); err != nil {
		t.Fatal(err)
	}
	return membership.Owners(sa.Annotations[wellknown.OwnersAnnotation])
}

// writtenBackService creates a derived Service as a hub writes it back into the member.
func writtenBackService(t *testing.T, c client.Client) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: wellknown.DerivedServiceName("web"), Labels: map[string]string{
			wellknown.ManagedByLabel: wellknown.ManagedByValue, wellknown.GlobalServiceNameLabel: "web",
		}},
		Spec: corev1.ServiceSpec{Selector: wellknown.WaypointSelector(), Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if err := c.Create(t.Context(), svc); err != nil {
		t.Fatal(err)
	}
	return svc
}

// memberObjects are what a join and its hub write into the member.
func memberObjects(derived *corev1.Service) []client.Object {
	return []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: wellknown.SystemNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: wellknown.SystemNamespace, Name: membership.MemberServiceAccount}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: membership.MemberClusterRole}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: membership.MemberClusterRole}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: membership.CoreDNSNamespace, Name: membership.MemberClusterRole}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: derived.Namespace, Name: derived.Name}},
	}
}

func runErr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	return out.String() + errOut.String(), err
}
