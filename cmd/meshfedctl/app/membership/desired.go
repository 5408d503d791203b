package membership

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/apis/wellknown"
)

// Names of what join creates in a member cluster.
const (
	// MemberServiceAccount is the identity the hub uses in a member.
	MemberServiceAccount = "meshfed-hub"
	// MemberClusterRole holds the hub's least-privilege permissions in a member.
	MemberClusterRole = "meshfed:hub"
	// MemberClusterLabel on hub objects names the member cluster they belong to.
	MemberClusterLabel = "meshfed.io/member-cluster"
	// KubeconfigKey is the Secret key holding the member kubeconfig.
	KubeconfigKey = "kubeconfig"
	// CoreDNSNamespace and CoreDNSConfigMap locate the member's CoreDNS configuration.
	CoreDNSNamespace = "kube-system"
	CoreDNSConfigMap = "coredns"
)

// Options describe one join.
type Options struct {
	Name         string
	Network      string
	Region       string
	Segment      string
	HubNamespace string
	// ClusterID is the member's cluster ID (see ClusterID), recorded on the MemberCluster;
	// Join reads it, and it is empty for --dry-run.
	ClusterID string
	// Force lets a join move an existing member to another network or segment, or point its
	// name at another cluster; Join reports every such change.
	Force bool
}

// SecretName is the hub Secret holding the member's kubeconfig.
func SecretName(member string) string { return "member-" + member }

func managedLabels() map[string]string {
	return map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue}
}

// MemberObjects are the objects join creates in the member, in creation order.
func MemberObjects() []client.Object {
	meta := func(name, ns string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: managedLabels()}
	}
	return []client.Object{
		&corev1.Namespace{ObjectMeta: meta(wellknown.SystemNamespace, "")},
		&corev1.ServiceAccount{ObjectMeta: meta(MemberServiceAccount, wellknown.SystemNamespace)},
		&rbacv1.ClusterRole{ObjectMeta: meta(MemberClusterRole, ""), Rules: memberRules()},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: meta(MemberClusterRole, ""),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: MemberClusterRole},
			Subjects: []rbacv1.Subject{{
				Kind: rbacv1.ServiceAccountKind, Name: MemberServiceAccount, Namespace: wellknown.SystemNamespace,
			}},
		},
		// CoreDNS forwards meshfed's zones and taken-over names to meshfed-dns: the hub edits
		// meshfed's marked block of that one ConfigMap.
		&rbacv1.Role{ObjectMeta: meta(MemberClusterRole, CoreDNSNamespace), Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{CoreDNSConfigMap}, Verbs: []string{"get", "update"},
		}}},
		&rbacv1.RoleBinding{
			ObjectMeta: meta(MemberClusterRole, CoreDNSNamespace),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: MemberClusterRole},
			Subjects: []rbacv1.Subject{{
				Kind: rbacv1.ServiceAccountKind, Name: MemberServiceAccount, Namespace: wellknown.SystemNamespace,
			}},
		},
		// meshfed-dns records there which taken-over names the cluster's DNS already forwards
		// to it; the hub reads that one ConfigMap for the GlobalService status.
		&rbacv1.Role{ObjectMeta: meta(MemberClusterRole, wellknown.SystemNamespace), Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{wellknown.DNSTakeoverConfigMap}, Verbs: []string{"get"},
		}}},
		&rbacv1.RoleBinding{
			ObjectMeta: meta(MemberClusterRole, wellknown.SystemNamespace),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: MemberClusterRole},
			Subjects: []rbacv1.Subject{{
				Kind: rbacv1.ServiceAccountKind, Name: MemberServiceAccount, Namespace: wellknown.SystemNamespace,
			}},
		},
	}
}

// memberRules are the hub's permissions in a member: read what it federates (and the
// kube-system Namespace, whose UID identifies the cluster), write the imports, derived
// Services and the EndpointSlices it owns and the status of ServiceExports, write the credential Secrets of the
// waypoints and shared gateways (by name: it can read no other Secret; create cannot be limited by name, and cannot
// replace an existing Secret), and record Events. Nothing else.
func memberRules() []rbacv1.PolicyRule {
	read := []string{"get", "list", "watch"}
	write := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"nodes", "namespaces"}, Verbs: read},
		{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: write},
		// Read every slice, write the MCS EndpointSlices of imports (create, update, delete):
		// exactly the verbs the caches and the writer use.
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch", "create", "update", "delete"}},
		{APIGroups: []string{"multicluster.x-k8s.io"}, Resources: []string{"serviceexports"}, Verbs: read},
		{APIGroups: []string{"multicluster.x-k8s.io"}, Resources: []string{"serviceexports/status"}, Verbs: []string{"get", "patch", "update"}},
		{APIGroups: []string{"multicluster.x-k8s.io"}, Resources: []string{"serviceimports"}, Verbs: write},
		{APIGroups: []string{"multicluster.x-k8s.io"}, Resources: []string{"serviceimports/status"}, Verbs: []string{"get", "patch", "update"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "update", "patch"},
			ResourceNames: []string{wellknown.WaypointStoreSecret, wellknown.WaypointCertSecret, wellknown.GatewayStoreSecret, wellknown.GatewayCertSecret}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create"}},
		{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
	}
}

// HubObjects are the objects join creates on the hub: the member's kubeconfig Secret and the
// MemberCluster, in creation order.
func HubObjects(o Options, kubeconfig []byte) []client.Object {
	labels := managedLabels()
	labels[MemberClusterLabel] = o.Name
	return []client.Object{
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: SecretName(o.Name), Namespace: o.HubNamespace, Labels: labels},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{KubeconfigKey: kubeconfig},
		},
		&meshfedv1.MemberCluster{
			ObjectMeta: metav1.ObjectMeta{Name: o.Name, Labels: managedLabels(), Annotations: clusterIDAnnotation(o.ClusterID)},
			Spec: meshfedv1.MemberClusterSpec{
				Network: o.Network, Region: o.Region, Segment: o.Segment,
				KubeconfigSecretRef: meshfedv1.SecretKeyRef{Name: SecretName(o.Name), Key: KubeconfigKey},
			},
		},
	}
}

// clusterIDAnnotation records the member's cluster ID on its MemberCluster; none when unknown.
func clusterIDAnnotation(id string) map[string]string {
	if id == "" {
		return nil
	}
	return map[string]string{wellknown.ClusterIDAnnotation: id}
}

// Kubeconfig renders a kubeconfig holding only a server, its CA and a bearer token: the one
// credential shape the hub accepts.
func Kubeconfig(member, server string, caData []byte, insecure bool, token string) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[member] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caData, InsecureSkipTLSVerify: insecure && len(caData) == 0}
	cfg.AuthInfos[MemberServiceAccount] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[member] = &clientcmdapi.Context{Cluster: member, AuthInfo: MemberServiceAccount}
	cfg.CurrentContext = member
	return clientcmd.Write(*cfg)
}
