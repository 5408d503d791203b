package waypoint_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/waypoint"
	"github.com/meshfed/meshfed/e2e/framework"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone/pki"
)

// testStoreCert runs apply with https endpoints on c, which is both hub and member east-1:
// the first apply issues the store certificate from the hub's CA Secret, the second changes
// nothing, one inside the renewal window issues a new one (the pods reload it, nothing rolls),
// and a certificate the hub renewed (24h) is left alone.
func testStoreCert(t *testing.T, c *framework.Cluster, kubeconfig string) {
	ca := createStoreCA(t, c)
	apply := func(ns string, extra ...string) []string {
		return append([]string{"waypoint", "apply", "-n", ns, "--kubeconfig", kubeconfig, "--hub-context", "east-1", "--member-context", "east-1",
			"--cluster", "east-1", "--etcd-endpoints", "https://store-1:2379"}, extra...)
	}
	createNamespace(t, c, "store")
	// The waypoint's objects (a disruption budget too, with its two default replicas) and the
	// store Secret.
	objects := len(waypoint.Objects(waypoint.Spec{Namespace: "store", Replicas: waypoint.DefaultReplicas})) + 1
	out := run(t, apply("store")...)
	if got := countLines(out, " created\n"); got != objects || !strings.Contains(out, "Secret/store/"+wellknown.WaypointStoreSecret+" created") {
		t.Fatalf("first apply created %d objects, want %d with the store Secret:\n%s", got, objects, out)
	}
	first := checkStoreSecret(t, c, ca, time.Now())
	checkStoreMount(t, c)
	before := resourceVersions(t, c, "store")

	out = run(t, apply("store")...)
	if got := countLines(out, " unchanged\n"); got != objects {
		t.Errorf("second apply: %d objects unchanged, want %d:\n%s", got, objects, out)
	}
	if after := resourceVersions(t, c, "store"); !maps.Equal(before, after) {
		t.Errorf("second apply changed resource versions: before %v, after %v", before, after)
	}

	// A certificate with 30 minutes left is within the renewal window.
	var sec corev1.Secret
	key := client.ObjectKey{Namespace: "store", Name: wellknown.WaypointStoreSecret}
	if err := c.Client.Get(t.Context(), key, &sec); err != nil {
		t.Fatal(err)
	}
	old, err := waypoint.StoreBundle(ca, waypoint.Spec{Namespace: "store", Cluster: "east-1"}, time.Now().Add(-waypoint.StoreCertValidity+30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	sec.Data = old
	if err := c.Client.Update(t.Context(), &sec); err != nil {
		t.Fatal(err)
	}
	out = run(t, apply("store")...)
	if !strings.Contains(out, "Secret/store/"+wellknown.WaypointStoreSecret+" configured") || countLines(out, " unchanged\n") != objects-1 {
		t.Errorf("apply within the renewal window should renew the Secret and change nothing else:\n%s", out)
	}
	renewed := checkStoreSecret(t, c, ca, time.Now())
	if bytes.Equal(renewed, first) {
		t.Error("the renewed certificate is the first one")
	}
	checkStoreMount(t, c)

	// A certificate the hub issued (24h, renewed at 2/3 of its life) is left alone.
	if err := c.Client.Get(t.Context(), key, &sec); err != nil {
		t.Fatal(err)
	}
	hubs, err := ca.ClientBundle(store.WaypointUser("store", "east-1"), time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sec.Data = hubs
	if err := c.Client.Update(t.Context(), &sec); err != nil {
		t.Fatal(err)
	}
	if out = run(t, apply("store")...); countLines(out, " unchanged\n") != objects {
		t.Errorf("apply over the hub's certificate should change nothing:\n%s", out)
	}

	t.Run("an unlabeled Secret is not replaced", func(t *testing.T) {
		createNamespace(t, c, "store-foreign")
		foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "store-foreign", Name: wellknown.WaypointStoreSecret}}
		if err := c.Client.Create(t.Context(), foreign); err != nil {
			t.Fatal(err)
		}
		err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, apply("store-foreign"))
		if !errors.Is(err, membership.ErrNotOwned) {
			t.Fatalf("apply err = %v, want ErrNotOwned", err)
		}
	})
	t.Run("a missing CA Secret is an error naming it", func(t *testing.T) {
		createNamespace(t, c, "store-noca")
		err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard},
			apply("store-noca", "--store-ca-secret", "meshfed-system/absent"))
		if err == nil || !strings.Contains(err.Error(), "meshfed-system/absent") {
			t.Fatalf("apply err = %v, want one naming the CA Secret", err)
		}
		var list corev1.SecretList
		if err := c.Client.List(t.Context(), &list, client.InNamespace("store-noca")); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 1 {
			t.Errorf("apply without a CA left %d Secrets in the namespace, want only the HBONE one", len(list.Items))
		}
	})
}

// createStoreCA creates the hub's CA Secret, as the hub does at first start.
func createStoreCA(t *testing.T, c *framework.Cluster) *pki.CA {
	t.Helper()
	ca, err := pki.NewCA("test store CA", time.Now(), 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: wellknown.SystemNamespace}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: wellknown.SystemNamespace, Name: wellknown.StoreCASecret},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: ca.CertPEM(), corev1.TLSPrivateKeyKey: keyPEM},
	}
	if err := c.Client.Create(t.Context(), sec); err != nil {
		t.Fatal(err)
	}
	return ca
}

// checkStoreSecret checks the store Secret: a client certificate of the waypoint's etcd user,
// signed by ca, valid for 30 days from about now, with ca's certificate as its bundle. It
// returns the certificate's PEM.
func checkStoreSecret(t *testing.T, c *framework.Cluster, ca *pki.CA, now time.Time) []byte {
	t.Helper()
	var sec corev1.Secret
	if err := c.Client.Get(t.Context(), client.ObjectKey{Namespace: "store", Name: wellknown.WaypointStoreSecret}, &sec); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sec.Data["ca.crt"], ca.CertPEM()) {
		t.Error("ca.crt is not the hub's CA")
	}
	b, _ := pem.Decode(sec.Data["tls.crt"])
	if b == nil {
		t.Fatal("tls.crt holds no PEM")
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("store certificate does not verify as a client of the CA: %v", err)
	}
	if cert.Subject.CommonName != "meshfed-waypoint:store:east-1" {
		t.Errorf("store certificate CN = %q, want the waypoint's etcd user", cert.Subject.CommonName)
	}
	if left := cert.NotAfter.Sub(now); left < 29*24*time.Hour || left > 30*24*time.Hour {
		t.Errorf("store certificate valid for %s more, want 30 days", left)
	}
	return sec.Data["tls.crt"]
}

// checkStoreMount checks that the waypoint pods mount the store Secret and name its certificate.
func checkStoreMount(t *testing.T, c *framework.Cluster) {
	t.Helper()
	var d appsv1.Deployment
	if err := c.Client.Get(t.Context(), client.ObjectKey{Namespace: "store", Name: wellknown.WaypointName}, &d); err != nil {
		t.Fatal(err)
	}
	mounted := false
	for _, v := range d.Spec.Template.Spec.Volumes {
		mounted = mounted || (v.Secret != nil && v.Secret.SecretName == wellknown.WaypointStoreSecret)
	}
	if !mounted {
		t.Error("the pods do not mount the store Secret")
	}
}
