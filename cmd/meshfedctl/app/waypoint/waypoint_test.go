package waypoint_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/waypoint"
	"github.com/meshfed/meshfed/e2e/framework"
)

// TestWaypoint drives meshfedctl waypoint apply and delete through the CLI against a real API
// server.
func TestWaypoint(t *testing.T) {
	// One API server is both the hub (it holds the MemberCluster) and the member.
	c := framework.Start(t, 1, framework.WithNames("east-1"), framework.WithScheme(meshfedv1.AddToScheme))[0]
	kubeconfig := c.KubeconfigFile(t)
	joinCluster(t, c, "east-1", "net-a")
	apply := func(ns string, extra ...string) []string {
		return append([]string{"waypoint", "apply", "-n", ns, "--kubeconfig", kubeconfig, "--hub-context", "east-1", "--member-context", "east-1",
			"--cluster", "east-1", "--network", "net-a", "--etcd-endpoints", "http://store-1:2379,http://store-2:2379"}, extra...)
	}
	del := func(ns string) []string {
		return []string{"waypoint", "delete", "-n", ns, "--kubeconfig", kubeconfig, "--context", "east-1"}
	}

	t.Run("apply, apply again, delete, delete again", func(t *testing.T) {
		createNamespace(t, c, "shop")
		out := run(t, apply("shop")...)
		if got := countLines(out, " created\n"); got != 6 {
			t.Errorf("first apply created %d objects, want 6 (with the disruption budget):\n%s", got, out)
		}
		checkObjects(t, c, "shop")
		before := resourceVersions(t, c, "shop")

		out = run(t, apply("shop")...)
		if got := countLines(out, " unchanged\n"); got != 6 || strings.Contains(out, "created") || strings.Contains(out, "configured") {
			t.Errorf("second apply was not a no-op:\n%s", out)
		}
		if after := resourceVersions(t, c, "shop"); !maps.Equal(before, after) {
			t.Errorf("second apply changed resource versions: before %v, after %v", before, after)
		}

		out = run(t, apply("shop", "--replicas", "3")...)
		if !strings.Contains(out, "Deployment/shop/meshfed-waypoint configured") || countLines(out, " unchanged\n") != 5 {
			t.Errorf("apply with --replicas 3 should configure only the Deployment:\n%s", out)
		}

		out = run(t, del("shop")...)
		if got := countLines(out, " deleted\n"); got != 6 || countLines(out, " absent\n") != 1 {
			t.Errorf("delete removed %d objects, want 6 (and the autoscaler absent):\n%s", got, out)
		}
		for _, obj := range waypoint.Objects(waypoint.Spec{Namespace: "shop"}) {
			if err := c.Client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
				t.Errorf("%T %s still there after delete (err %v)", obj, obj.GetName(), err)
			}
		}
		out = run(t, del("shop")...)
		if got := countLines(out, " absent\n"); got != 7 {
			t.Errorf("second delete: %d objects absent, want 7:\n%s", got, out)
		}
	})

	t.Run("dry run prints YAML and creates nothing", func(t *testing.T) {
		createNamespace(t, c, "dry")
		out := run(t, apply("dry", "--dry-run")...)
		docs := parseDocs(t, out)
		var kinds []string
		for _, d := range docs {
			if d.GetAPIVersion() == "" || d.GetKind() == "" {
				t.Errorf("document without apiVersion or kind: %v", d.Object)
			}
			kinds = append(kinds, d.GetKind())
		}
		want := []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment", "Service", "PodDisruptionBudget"}
		if !slices.Equal(kinds, want) {
			t.Errorf("dry run kinds %v, want %v", kinds, want)
		}
		for _, obj := range waypoint.Objects(waypoint.Spec{Namespace: "dry"}) {
			if err := c.Client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
				t.Errorf("dry run created %T %s (err %v)", obj, obj.GetName(), err)
			}
		}
	})

	t.Run("placement, disruption budget and autoscaler", func(t *testing.T) {
		testPlacement(t, c, apply)
	})

	t.Run("an unlabeled Service is not taken over", func(t *testing.T) {
		createNamespace(t, c, "foreign")
		foreign := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: wellknown.WaypointName, Namespace: "foreign"},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		}
		if err := c.Client.Create(t.Context(), foreign); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: &out, ErrOut: io.Discard}, apply("foreign"))
		if !errors.Is(err, membership.ErrNotOwned) || !strings.Contains(err.Error(), "Service foreign/meshfed-waypoint") {
			t.Fatalf("apply err = %v, want ErrNotOwned naming the Service", err)
		}
		var got corev1.Service
		if err := c.Client.Get(t.Context(), client.ObjectKeyFromObject(foreign), &got); err != nil {
			t.Fatal(err)
		}
		if got.ResourceVersion != foreign.ResourceVersion || len(got.Labels) != 0 {
			t.Errorf("foreign Service was changed: %+v", got.ObjectMeta)
		}
		// Nothing else was created either: apply checks every object before writing any.
		if err := c.Client.Get(t.Context(), client.ObjectKey{Namespace: "foreign", Name: wellknown.WaypointName}, &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
			t.Errorf("apply created the Deployment next to a foreign Service (err %v)", err)
		}
		delOut := run(t, del("foreign")...)
		if !strings.Contains(delOut, "Service/foreign/meshfed-waypoint kept (not managed by meshfed)") {
			t.Errorf("delete should keep the foreign Service:\n%s", delOut)
		}
		if err := c.Client.Get(t.Context(), client.ObjectKeyFromObject(foreign), &got); err != nil {
			t.Errorf("delete removed the foreign Service: %v", err)
		}
	})

	t.Run("a missing namespace is an error", func(t *testing.T) {
		err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, apply("nowhere"))
		if !errors.Is(err, waypoint.ErrNoNamespace) {
			t.Fatalf("apply err = %v, want ErrNoNamespace", err)
		}
	})

	t.Run("an https store: apply issues, keeps and renews the store certificate", func(t *testing.T) {
		testStoreCert(t, c, kubeconfig)
	})
}

// checkObjects checks what apply created in ns: the pods are what the hub's derived Services
// select, they run as the ServiceAccount that may read Nodes, and they get their certificates.
func checkObjects(t *testing.T, c *framework.Cluster, ns string) {
	t.Helper()
	ctx := t.Context()
	key := client.ObjectKey{Namespace: ns, Name: wellknown.WaypointName}
	var dep appsv1.Deployment
	if err := c.Client.Get(ctx, key, &dep); err != nil {
		t.Fatal(err)
	}
	hubSelects := labels.SelectorFromSet(wellknown.WaypointSelector())
	if !hubSelects.Matches(labels.Set(dep.Spec.Template.Labels)) {
		t.Errorf("pod labels %v are not selected by the hub's derived Services (%v)", dep.Spec.Template.Labels, hubSelects)
	}
	depSelects, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil || !depSelects.Matches(labels.Set(dep.Spec.Template.Labels)) {
		t.Errorf("Deployment selector %v does not select its pods (err %v)", dep.Spec.Selector, err)
	}
	if *dep.Spec.Replicas != waypoint.DefaultReplicas || dep.Spec.Template.Spec.ServiceAccountName != wellknown.WaypointName {
		t.Errorf("Deployment replicas %d, service account %q", *dep.Spec.Replicas, dep.Spec.Template.Spec.ServiceAccountName)
	}
	pod := dep.Spec.Template.Spec
	if len(pod.Volumes) != 1 || pod.Volumes[0].Secret == nil || pod.Volumes[0].Secret.SecretName != waypoint.DefaultCertSecret {
		t.Errorf("pod volumes %+v, want the Secret %s", pod.Volumes, waypoint.DefaultCertSecret)
	}
	if m := pod.Containers[0].VolumeMounts; len(m) != 1 || !m[0].ReadOnly {
		t.Errorf("volume mounts %+v, want one read-only", m)
	}
	env := map[string]string{}
	for _, e := range pod.Containers[0].Env {
		env[e.Name] = e.Value
		if e.ValueFrom != nil {
			env[e.Name] = e.ValueFrom.FieldRef.FieldPath
		}
	}
	for name, want := range map[string]string{
		"MESHFED_CLUSTER": "east-1", "MESHFED_NETWORK": "net-a", "MESHFED_ETCD_ENDPOINTS": "http://store-1:2379,http://store-2:2379",
		"MESHFED_CERT_FILE": "/etc/meshfed/certs/tls.crt", "MESHFED_KEY_FILE": "/etc/meshfed/certs/tls.key",
		"MESHFED_CA_FILE": "/etc/meshfed/certs/ca.crt", "NODE_NAME": "spec.nodeName", "POD_NAMESPACE": "metadata.namespace",
	} {
		if env[name] != want {
			t.Errorf("env %s = %q, want %q", name, env[name], want)
		}
	}

	var svc corev1.Service
	if err := c.Client.Get(ctx, key, &svc); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(svc.Spec.Selector, wellknown.WaypointSelector()) {
		t.Errorf("Service selector %v, want %v", svc.Spec.Selector, wellknown.WaypointSelector())
	}
	var protocols []corev1.Protocol
	for _, p := range svc.Spec.Ports {
		if p.Port == wellknown.HBONEPort {
			protocols = append(protocols, p.Protocol)
		}
	}
	if !slices.Equal(protocols, []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP}) {
		t.Errorf("Service HBONE port protocols %v, want TCP and UDP", protocols)
	}

	var binding rbacv1.ClusterRoleBinding
	if err := c.Client.Get(ctx, client.ObjectKey{Name: wellknown.WaypointName + "-" + ns}, &binding); err != nil {
		t.Fatal(err)
	}
	if len(binding.Subjects) != 1 || binding.Subjects[0].Name != wellknown.WaypointName || binding.Subjects[0].Namespace != ns {
		t.Errorf("ClusterRoleBinding subjects %+v", binding.Subjects)
	}
	checkCanGetNodes(t, c, ns)
}

// checkCanGetNodes asks the API server whether the waypoint's ServiceAccount may get a Node
// and may not list Secrets.
func checkCanGetNodes(t *testing.T, c *framework.Cluster, ns string) {
	t.Helper()
	sa := "system:serviceaccount:" + ns + ":" + wellknown.WaypointName
	for _, tc := range []struct {
		verb, resource string
		want           bool
	}{{"get", "nodes", true}, {"list", "secrets", false}} {
		attrs := &authorizationv1.ResourceAttributes{Verb: tc.verb, Resource: tc.resource, Name: "node-1"}
		if tc.resource != "nodes" {
			attrs = &authorizationv1.ResourceAttributes{Verb: tc.verb, Resource: tc.resource, Namespace: ns}
		}
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: sa, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns}, ResourceAttributes: attrs,
		}}
		if err := c.Client.Create(t.Context(), review); err != nil {
			t.Fatal(err)
		}
		if review.Status.Allowed != tc.want {
			t.Errorf("%s may %s %s: %v, want %v", sa, tc.verb, tc.resource, review.Status.Allowed, tc.want)
		}
	}
}

func resourceVersions(t *testing.T, c *framework.Cluster, ns string) map[string]string {
	t.Helper()
	rv := map[string]string{}
	for _, obj := range waypoint.Objects(waypoint.Spec{Namespace: ns}) {
		if err := c.Client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
		rv[fmt.Sprintf("%T %s", obj, client.ObjectKeyFromObject(obj))] = obj.GetResourceVersion()
	}
	return rv
}

// parseDocs decodes a stream of YAML documents, failing the test on anything else.
func parseDocs(t *testing.T, out string) []*unstructured.Unstructured {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(out)))
	var docs []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("dry run output is not YAML: %v\n%s", err, out)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatalf("dry run document is not YAML: %v\n%s", err, doc)
		}
		docs = append(docs, u)
	}
}

// createNamespace creates a namespace with the waypoint's certificate Secret in it.
func createNamespace(t *testing.T, c *framework.Cluster, name string) {
	t.Helper()
	createBareNamespace(t, c, name)
	certs := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: waypoint.DefaultCertSecret},
		Data:       map[string][]byte{"tls.crt": []byte("cert"), "tls.key": []byte("key"), "ca.crt": []byte("ca")},
	}
	if err := c.Client.Create(t.Context(), certs); err != nil {
		t.Fatal(err)
	}
}

func createBareNamespace(t *testing.T, c *framework.Cluster, name string) {
	t.Helper()
	if err := c.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
}

// joinCluster creates the MemberCluster a join would, without the credentials.
func joinCluster(t *testing.T, c *framework.Cluster, name, network string) {
	t.Helper()
	mc := &meshfedv1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       meshfedv1.MemberClusterSpec{Network: network, KubeconfigSecretRef: meshfedv1.SecretKeyRef{Name: "member-" + name}},
	}
	if err := c.Client.Create(t.Context(), mc); err != nil {
		t.Fatal(err)
	}
}

func countLines(out, suffix string) int {
	return strings.Count(out, suffix)
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args); err != nil {
		t.Fatalf("meshfedctl %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}
