package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
	"github.com/meshfed/meshfed/federation/controller"
	"github.com/meshfed/meshfed/federation/store"
	"github.com/meshfed/meshfed/hbone/pki"
)

// memberSecrets gives the issuer a member cluster's Secrets: a reader that goes to the API
// server (the hub may read only the waypoint Secrets there, by name, so it caches none) and a
// writer; false while the member is not connected or not reachable.
type memberSecrets func(cluster string) (client.Reader, client.Writer, bool)

// issuer writes, into each member and each namespace with a published waypoint there, the
// waypoint's store client certificate (wellknown.WaypointStoreSecret) and its HBONE
// certificate (wellknown.WaypointCertSecret); into the namespace of each shared gateway the
// records name, once, the gateway's (wellknown.GatewayStoreSecret, GatewayCertSecret, with
// the gateway's user and SPIFFE ID); and renews them when renewBefore of their
// validity is left: the new certificate is in the Secret while the old one is still valid for
// renewBefore, the time the kubelet and the waypoint's file polling take to swap it in.
//
// A Secret without meshfed's managed-by label is the user's (bring your own CA) and is never
// touched.
type issuer struct {
	ca          *pki.CA
	secrets     memberSecrets
	trustDomain string
	validity    time.Duration
	renewBefore time.Duration
	log         *slog.Logger
	// refused remembers the user's Secrets already reported, so that each is logged once.
	refused map[string]bool
}

// interval is how often the issuer checks every Secret: a quarter of the renewal window, at
// least 100ms and at most a minute.
func (is *issuer) interval() time.Duration {
	return min(time.Minute, max(100*time.Millisecond, is.renewBefore/4))
}

// run issues credentials for st's waypoints and shared gateways until ctx ends.
func (is *issuer) run(ctx context.Context, st *store.Client) {
	followWaypoints(ctx, st, is.interval(), is.log, func(ws publishedWaypoints, now time.Time) {
		for k, rec := range ws {
			if rec.Gateway == "" {
				is.sync(ctx, is.waypointCredentials(k.Namespace, k.Cluster, rec.Addresses), now)
			}
		}
		for gw, addresses := range gatewayAddresses(ws) {
			is.sync(ctx, is.gatewayCredentials(gw, addresses), now)
		}
	})
}

// credentials are what the issuer writes for one waypoint or shared gateway: in Namespace of
// Cluster, the store client certificate of User in StoreSecret and the HBONE certificate of
// Workload, with SANs, in CertSecret.
type credentials struct {
	Namespace, Cluster      string
	StoreSecret, CertSecret string
	User                    string
	Workload                pki.Workload
	SANs                    []string
}

// waypointCredentials are the credentials of the waypoint of ns in cluster, published at
// addresses.
func (is *issuer) waypointCredentials(ns, cluster string, addresses []string) credentials {
	return credentials{
		Namespace: ns, Cluster: cluster, StoreSecret: wellknown.WaypointStoreSecret, CertSecret: wellknown.WaypointCertSecret,
		User: store.WaypointUser(ns, cluster), Workload: pki.Workload{ID: WaypointID(is.trustDomain, ns), Cluster: cluster},
		SANs: hboneSANs(addresses),
	}
}

// gatewayCredentials are the credentials of the shared gateway gw, published at addresses:
// once, in the gateway's namespace, however many namespaces it serves.
func (is *issuer) gatewayCredentials(gw store.Gateway, addresses []string) credentials {
	return credentials{
		Namespace: gw.Namespace, Cluster: gw.Cluster, StoreSecret: wellknown.GatewayStoreSecret, CertSecret: wellknown.GatewayCertSecret,
		User: store.GatewayUser(gw.Namespace, gw.Cluster), Workload: pki.Workload{ID: controller.GatewayID(is.trustDomain, gw.Namespace), Cluster: gw.Cluster},
		SANs: hboneSANs(addresses),
	}
}

// gatewayAddresses are the shared gateways the records of ws name, each with the addresses of
// its records (all the same, as one Service's; merged should two passes' records meet).
func gatewayAddresses(ws publishedWaypoints) map[store.Gateway][]string {
	out := map[store.Gateway][]string{}
	for k, rec := range ws {
		if rec.Gateway != "" {
			gw := store.Gateway{Namespace: rec.Gateway, Cluster: k.Cluster}
			out[gw] = append(out[gw], rec.Addresses...)
		}
	}
	for gw, addrs := range out {
		slices.Sort(addrs)
		out[gw] = slices.Compact(addrs)
	}
	return out
}

// sync makes the two Secrets of c current.
func (is *issuer) sync(ctx context.Context, c credentials, now time.Time) {
	r, w, ok := is.secrets(c.Cluster)
	if !ok {
		return
	}
	user, ns, cluster := c.User, c.Namespace, c.Cluster
	is.ensure(ctx, r, w, cluster, client.ObjectKey{Namespace: ns, Name: c.StoreSecret},
		func(data map[string][]byte) (bool, string) {
			if why := is.tooLong(data); why != "" {
				return false, why
			}
			return is.ca.ClientCurrent(data, user, now, is.renewBefore)
		},
		func() (map[string][]byte, error) { return is.ca.ClientBundle(user, now, is.validity) })
	wl, sans := c.Workload, c.SANs
	is.ensure(ctx, r, w, cluster, client.ObjectKey{Namespace: ns, Name: c.CertSecret},
		func(data map[string][]byte) (bool, string) {
			if why := is.tooLong(data); why != "" {
				return false, why
			}
			return is.ca.WorkloadCurrent(data, wl, sans, now, is.renewBefore)
		},
		func() (map[string][]byte, error) { return is.ca.WorkloadBundle(wl, sans, now, is.validity) })
}

// ensure creates the Secret key in cluster with issue's data, or replaces its data when
// current says it no longer serves; a Secret that is not meshfed's is left alone. Failures
// are logged and retried at the next pass.
func (is *issuer) ensure(ctx context.Context, r client.Reader, w client.Writer, cluster string, key client.ObjectKey,
	current func(map[string][]byte) (bool, string), issue func() (map[string][]byte, error)) {
	log := is.log.With("cluster", cluster, "secret", key.String())
	var sec corev1.Secret
	err := r.Get(ctx, key, &sec)
	why := "missing"
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		log.Warn("cannot read a waypoint credentials Secret; retrying", "error", err)
		return
	case sec.Labels[wellknown.ManagedByLabel] != wellknown.ManagedByValue:
		if id := cluster + "/" + key.String(); !is.refused[id] {
			is.refused[id] = true
			log.Info("leaving a waypoint credentials Secret the user created alone (it lacks the managed-by label)")
		}
		return
	default:
		var ok bool
		if ok, why = current(sec.Data); ok {
			return
		}
	}
	data, err := issue()
	if err != nil {
		log.Error("cannot issue waypoint credentials", "error", err)
		return
	}
	if why == "missing" {
		sec = corev1.Secret{ObjectMeta: metav1.ObjectMeta{
			Name: key.Name, Namespace: key.Namespace,
			Labels: map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue},
		}, Type: corev1.SecretTypeTLS, Data: data}
		err = w.Create(ctx, &sec)
	} else {
		sec.Data = data
		err = w.Update(ctx, &sec)
	}
	if err != nil {
		log.Warn("cannot write waypoint credentials; retrying", "error", err)
		return
	}
	log.Info("issued waypoint credentials", "reason", why, "notAfter", time.Now().Add(is.validity).Format(time.RFC3339))
}

// tooLong says why the certificate in data lives longer than the issuer's validity (as one
// meshfedctl waypoint apply issued, 30 days), "" if it does not or does not parse (the
// current check reports that): the hub replaces it, so that no waypoint certificate outlives
// --waypoint-cert-validity by more than the back-dating for clock skew.
func (is *issuer) tooLong(data map[string][]byte) string {
	pair, err := tls.X509KeyPair(data[pki.CertKey], data[pki.KeyKey])
	if err != nil {
		return ""
	}
	if life := pair.Leaf.NotAfter.Sub(pair.Leaf.NotBefore); life > is.validity+pki.ClockSkew+time.Second {
		return fmt.Sprintf("lives %s, longer than %s", life, is.validity)
	}
	return ""
}

// WaypointID is the SPIFFE ID of the waypoints of namespace ns:
// spiffe://<trust-domain>/ns/<ns>/sa/meshfed-waypoint, the ServiceAccount their pods run as.
func WaypointID(trustDomain, ns string) *url.URL {
	return controller.SPIFFEID(trustDomain, ns, wellknown.WaypointName)
}

// hboneSANs are the hosts of a waypoints record's HBONE addresses (host:port), sorted and
// without duplicates: IP or DNS SANs of the HBONE certificate, for peers that verify the
// address they dial. A host that a certificate cannot carry is left out.
func hboneSANs(addresses []string) []string {
	var out []string
	for _, a := range addresses {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			continue
		}
		if net.ParseIP(host) != nil || pki.ValidDNSName(host) {
			out = append(out, host)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// validateTrustDomain checks --trust-domain.
func validateTrustDomain(td string) error {
	if !pki.ValidDNSName(td) {
		return fmt.Errorf("invalid --trust-domain %q: want a lower-case DNS name", td)
	}
	return nil
}
