package waypoint_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/waypoint"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/internal/cmdline"
	"github.com/meshfed/meshfed/internal/golden"
)

// TestApplyChecksBeforeWriting: waypoint apply refuses a cluster the hub has never heard of, a
// network that is not the cluster's, a missing or incomplete certificate Secret, and a missing
// --hub-context, each with one message saying what to do, and writes nothing. Before, it
// accepted all of them. Without --network it takes the hub's.
func TestApplyChecksBeforeWriting(t *testing.T) {
	c := framework.Start(t, 1, framework.WithNames("east-1"), framework.WithScheme(meshfedv1.AddToScheme))[0]
	kubeconfig := c.KubeconfigFile(t)
	joinCluster(t, c, "east-1", "net-a")
	joinCluster(t, c, "west-1", "net-b")
	createNamespace(t, c, "shop")
	createBareNamespace(t, c, "bare")
	createBareNamespace(t, c, "partial")
	partial := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "partial", Name: waypoint.DefaultCertSecret},
		Data: map[string][]byte{"tls.crt": []byte("cert")}}
	if err := c.Client.Create(t.Context(), partial); err != nil {
		t.Fatal(err)
	}
	base := []string{"waypoint", "apply", "--kubeconfig", kubeconfig, "--etcd-endpoints", "http://store:2379"}
	both := []string{"--hub-context", "east-1", "--member-context", "east-1"}
	lines := [][]string{
		append([]string{"-n", "shop", "--cluster", "east-9"}, both...),
		append([]string{"-n", "shop", "--cluster", "east-1", "--network", "net-b"}, both...),
		append([]string{"-n", "bare", "--cluster", "east-1"}, both...),
		append([]string{"-n", "partial", "--cluster", "east-1"}, both...),
		append([]string{"-n", "shop", "--cluster", "east-1", "--etcd-secret", "store-certs"}, both...),
		{"-n", "shop", "--cluster", "east-1", "--member-context", "east-1"},
		{"-n", "shop", "--cluster", "east-1", "--context", "east-1"},
		{"-n", "shop", "--cluster", "east-1", "--dry-run"},
	}
	var out strings.Builder
	for _, l := range lines {
		args := append(append([]string{}, base...), l...)
		var stdout bytes.Buffer
		err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stdout}, args)
		var stderr bytes.Buffer
		code := cmdline.Exit(&stderr, err)
		fmt.Fprintf(&out, "$ meshfedctl waypoint apply %s\nexit %d\n%s%s\n", strings.Join(l, " "), code, stdout.String(), stderr.String())
		if err == nil {
			t.Errorf("waypoint apply %s succeeded", strings.Join(l, " "))
		}
	}
	golden.Check(t, "apply_refused", out.String())
	for _, ns := range []string{"shop", "bare", "partial"} {
		for _, obj := range waypoint.Objects(waypoint.Spec{Namespace: ns}) {
			if err := c.Client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
				t.Errorf("a refused apply wrote %T %s (err %v)", obj, client.ObjectKeyFromObject(obj), err)
			}
		}
	}

	// Without --network the hub's is used.
	var stdout bytes.Buffer
	args := append(append(append([]string{}, base...), "-n", "shop", "--cluster", "west-1"), both...)
	if err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stdout}, args); err != nil {
		t.Fatalf("apply without --network: %v\n%s", err, stdout.String())
	}
	var dep appsv1.Deployment
	if err := c.Client.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: wellknown.WaypointName}, &dep); err != nil {
		t.Fatal(err)
	}
	network := ""
	for _, e := range dep.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "MESHFED_NETWORK" {
			network = e.Value
		}
	}
	if network != "net-b" {
		t.Errorf("apply without --network: MESHFED_NETWORK = %q, want west-1's network net-b from the hub", network)
	}
}
