package waypoint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
)

// Errors of the checks apply makes before it writes anything.
var (
	// ErrNotJoined: --cluster names no MemberCluster of the hub.
	ErrNotJoined = errors.New("cluster is not joined to the hub")
	// ErrNetworkMismatch: --network is not the network the hub knows the cluster by.
	ErrNetworkMismatch = errors.New("network does not match the hub's")
	// ErrSecret: a Secret the pods mount is missing or lacks a key.
	ErrSecret = errors.New("certificate Secret not usable")
)

// secretKeys are the keys the pods read from each certificate Secret.
var secretKeys = []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey, caKey}

// CheckHub checks s.Cluster and s.Network against the hub: the cluster must be joined, and the
// network, when given, must be the one it joined with; an empty network is taken from the hub.
// A waypoint with a wrong cluster or network would route as another cluster would.
func CheckHub(ctx context.Context, hub client.Client, s *Spec) error {
	var mc meshfedv1.MemberCluster
	err := hub.Get(ctx, client.ObjectKey{Name: s.Cluster}, &mc)
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("failed to check --cluster %s: %w (joined: %s); join it first with meshfedctl join, or fix --cluster",
			s.Cluster, ErrNotJoined, joined(ctx, hub))
	case err != nil:
		return fmt.Errorf("failed to read member cluster %s from the hub: %w", s.Cluster, err)
	case s.Network == "":
		s.Network = mc.Spec.Network
	case s.Network != mc.Spec.Network:
		return fmt.Errorf("failed to check --network %s: %w: cluster %s joined on network %s", s.Network, ErrNetworkMismatch, s.Cluster, mc.Spec.Network)
	}
	return nil
}

// joined lists the hub's member clusters for a message, or says it could not.
func joined(ctx context.Context, hub client.Client) string {
	var list meshfedv1.MemberClusterList
	if err := hub.List(ctx, &list); err != nil {
		return "unknown: " + err.Error()
	}
	if len(list.Items) == 0 {
		return "none"
	}
	names := make([]string, 0, len(list.Items))
	for _, m := range list.Items {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// CheckSecrets checks that the Secrets the pods mount exist in the waypoint's namespace with
// tls.crt, tls.key and ca.crt: without them the pods would never start. A missing CertSecret
// is fine when the hub issues it (Spec.HubIssuesCert).
func CheckSecrets(ctx context.Context, c client.Client, side string, s Spec) error {
	names := []string{s.CertSecret}
	if s.EtcdSecret != "" {
		names = append(names, s.EtcdSecret)
	}
	for _, name := range names {
		var sec corev1.Secret
		err := c.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, &sec)
		switch {
		case apierrors.IsNotFound(err) && name == s.CertSecret && s.HubIssuesCert:
			continue
		case apierrors.IsNotFound(err):
			return fmt.Errorf("failed to find Secret %s/%s in %s: %w: create it with %s first (meshfedctl ca issue --out DIR …; "+
				"kubectl -n %s create secret generic %s --from-file=DIR)", s.Namespace, name, side, ErrSecret, strings.Join(secretKeys, ", "), s.Namespace, name)
		case err != nil:
			return fmt.Errorf("failed to get Secret %s/%s in %s: %w", s.Namespace, name, side, err)
		}
		var missing []string
		for _, k := range secretKeys {
			if len(sec.Data[k]) == 0 {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("failed to use Secret %s/%s in %s: %w: it lacks %s", s.Namespace, name, side, ErrSecret, strings.Join(missing, ", "))
		}
	}
	return nil
}
