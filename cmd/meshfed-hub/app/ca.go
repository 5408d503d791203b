package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/hbone/pki"
)

// caValidity is the lifetime of a CA the hub creates.
const caValidity = 10 * 365 * 24 * time.Hour

// loadOrCreateCA reads the hub's CA from the Secret name in ns (tls.crt and tls.key, the
// layout of a kubernetes.io/tls Secret and of cert-manager's CA Secrets), creating it with a
// new CA when it does not exist. Two replicas starting at once agree on the one that was
// created first.
func loadOrCreateCA(ctx context.Context, cfg *rest.Config, ns, name string, log *slog.Logger) (*pki.CA, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create hub client: %w", err)
	}
	secrets := cs.CoreV1().Secrets(ns)
	sec, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		var ca *pki.CA
		if sec, ca, err = createCASecret(ctx, cs, ns, name); err == nil {
			log.Info("created the federation CA", "secret", ns+"/"+name, "notAfter", ca.Cert.NotAfter)
			return ca, nil
		}
		if apierrors.IsAlreadyExists(err) {
			sec, err = secrets.Get(ctx, name, metav1.GetOptions{})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read CA secret %s/%s: %w", ns, name, err)
	}
	ca, err := pki.ParseCA(sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey], time.Now())
	if err != nil {
		return nil, fmt.Errorf("failed to load CA secret %s/%s: %w", ns, name, err)
	}
	return ca, nil
}

func createCASecret(ctx context.Context, cs kubernetes.Interface, ns, name string) (*corev1.Secret, *pki.CA, error) {
	ca, err := pki.NewCA("meshfed federation CA", time.Now(), caValidity)
	if err != nil {
		return nil, nil, err
	}
	key, err := ca.KeyPEM()
	if err != nil {
		return nil, nil, err
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns,
			Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue},
		},
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: ca.CertPEM(), corev1.TLSPrivateKeyKey: key, "ca.crt": ca.CertPEM()},
	}
	sec, err = cs.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
	return sec, ca, err
}
