package waypoint

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/membership"
	"github.com/meshfed/meshfed/hbone/pki"
)

// Apply issues a waypoint's store client certificate for StoreCertValidity, so that its pods
// start at once; the hub (embedded store) replaces it with one of its own, shorter lifetime
// and renews it. Apply issues it anew only when it no longer serves for StoreCertRenewBefore:
// a certificate the hub renews is left alone.
const (
	StoreCertValidity    = 30 * 24 * time.Hour
	StoreCertRenewBefore = time.Hour
)

// DefaultStoreCA is the hub's CA Secret, as the hub creates it (deploy/hub-embedded).
var DefaultStoreCA = client.ObjectKey{Namespace: wellknown.SystemNamespace, Name: wellknown.StoreCASecret}

// NeedsStoreCert reports whether endpoints are https: the store then wants a client certificate.
func NeedsStoreCert(endpoints []string) bool {
	for _, e := range endpoints {
		if strings.HasPrefix(strings.ToLower(e), "https://") {
			return true
		}
	}
	return false
}

// ReadStoreCA reads the hub's CA from its Secret ref (tls.crt, tls.key).
func ReadStoreCA(ctx context.Context, hub client.Client, ref client.ObjectKey, now time.Time) (*pki.CA, error) {
	var sec corev1.Secret
	if err := hub.Get(ctx, ref, &sec); err != nil {
		return nil, fmt.Errorf("failed to read the store CA Secret %s on the hub: %w (the hub creates it at first start)", ref, err)
	}
	ca, err := pki.ParseCA(sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey], now)
	if err != nil {
		return nil, fmt.Errorf("failed to load the store CA Secret %s: %w", ref, err)
	}
	return ca, nil
}

// StoreBundle issues the store client certificate of the waypoint (or shared gateway) s
// describes, from its Namespace, Cluster and Serves: its Common Name is their etcd user, which
// reads the records of the namespace (or of the namespaces the gateway serves) only.
func StoreBundle(ca *pki.CA, s Spec, now time.Time) (map[string][]byte, error) {
	return ca.ClientBundle(s.storeUser(), now, StoreCertValidity)
}

// EnsureStoreSecret makes s.EtcdSecret in the member hold a current store client certificate
// for the waypoint of s: a Secret that still serves (pki.CA.ClientCurrent, outside the
// renewal window) is left alone and reported unchanged; otherwise a new certificate is issued
// and applied. A Secret without meshfed's managed-by label is never replaced. The waypoints
// reload a renewed certificate without restarting.
func EnsureStoreSecret(ctx context.Context, c client.Client, side string, ca *pki.CA, s Spec, now time.Time, out io.Writer) error {
	user := s.storeUser()
	key := client.ObjectKey{Namespace: s.Namespace, Name: s.EtcdSecret}
	var cur corev1.Secret
	switch err := c.Get(ctx, key, &cur); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("failed to get Secret %s in %s: %w", key, side, err)
	case cur.Labels[wellknown.ManagedByLabel] != wellknown.ManagedByValue:
		return fmt.Errorf("failed to issue the store certificate into Secret %s in %s: %w (pass it with --etcd-secret to use it as it is)",
			key, side, membership.ErrNotOwned)
	default:
		if ok, _ := ca.ClientCurrent(cur.Data, user, now, StoreCertRenewBefore); ok {
			_, err := fmt.Fprintf(out, "%-7s Secret/%s unchanged\n", side, key)
			return err
		}
	}
	data, err := StoreBundle(ca, s, now)
	if err != nil {
		return err
	}
	sec := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: s.EtcdSecret, Namespace: s.Namespace,
			Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue},
		},
		Type: corev1.SecretTypeTLS,
		Data: data,
	}
	return membership.Apply(ctx, c, side, sec, out)
}
