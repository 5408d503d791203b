package waypoint

import (
	"maps"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshfed/meshfed/apis/wellknown"
)

// AdminPort serves the waypoint's /healthz, /readyz and /debug/endpoints.
const AdminPort = 15021

// Defaults of Spec, also the defaults of the apply command's flags.
const (
	DefaultImage      = "meshfed-waypoint:dev"
	DefaultReplicas   = 2
	DefaultCertSecret = wellknown.WaypointCertSecret
	// DefaultProcs is the waypoint's GOMAXPROCS. Go's own default is every CPU of the node (or
	// the container's CPU limit; the Deployment sets none), and a waypoint's CPU per request
	// grows with the number of Ps at a moderate load: on 2 cores at 1,000 requests/s,
	// meshfed-bench measured 0.21–0.23 cores per 1,000 req/s with 1, 0.23–0.29 with 2 and
	// 0.34–0.37 with 8. Two match Envoy's worker count in Istio's proxies.
	DefaultProcs = 2
	// MaxProcs bounds --procs.
	MaxProcs = 256
)

// Where the pods find their certificates. Both Secrets hold tls.crt, tls.key and ca.crt (the
// layout of a kubernetes.io/tls Secret written by cert-manager).
const (
	certDir     = "/etc/meshfed/certs"
	etcdCertDir = "/etc/meshfed/etcd"
)

// caKey is the Secret key of the trust bundle, next to corev1.TLSCertKey and TLSPrivateKeyKey.
const caKey = "ca.crt"

// runAsID is the unprivileged user and group the waypoint runs as (distroless "nonroot").
const runAsID = 65532

// Spec is what a waypoint Deployment needs to know about its cluster.
type Spec struct {
	Namespace     string
	Cluster       string
	Network       string
	Image         string
	EtcdEndpoints []string
	Replicas      int32
	// CertSecret holds the waypoint's HBONE certificate, key and trust bundle.
	CertSecret string
	// HubIssuesCert: CertSecret is the default one, which the hub issues (and renews) once it
	// publishes the waypoint, so apply does not require it to exist; the pods start when it does.
	HubIssuesCert bool
	// EtcdSecret, when set, holds the client certificate, key and CA for a TLS federation store.
	EtcdSecret string
	// ServiceType of the waypoint Service; LoadBalancer gives other networks an HBONE address.
	ServiceType corev1.ServiceType
	// Procs is the pods' GOMAXPROCS; 0 leaves Go's default (the node's CPUs, or the CPU limit).
	Procs int32
	// NodeSelector and Tolerations put the pods on nodes dedicated to them.
	NodeSelector map[string]string
	Tolerations  []corev1.Toleration
	// AntiAffinity spreads the pods over nodes and zones when more than one can run; empty is
	// AntiAffinityPreferred.
	AntiAffinity AntiAffinity
	// Resources of the waypoint container; the zero value takes DefaultResources at
	// DefaultPodRPS and Procs.
	Resources *Resources
	// Autoscale, when set, adds a HorizontalPodAutoscaler and leaves Replicas to it.
	Autoscale *Autoscale
	// Drain is the pods' shutdown sequence, and sets their termination grace period.
	Drain Drain
	// Serves, when set, makes this a shared gateway serving these namespaces (sorted, see
	// ParseServes) instead of the waypoint of Namespace.
	Serves []string
}

// Objects are the waypoint's (or the shared gateway's) objects in creation order; deleting
// goes in reverse. The ClusterRole and ClusterRoleBinding are named <name>-<namespace>: one
// pair per namespace, so that deleting one namespace's waypoint leaves the others' alone.
//
// Its pods carry the label the hub's derived Services select (wellknown.WaypointSelector); the
// Service exposes the HBONE port on TCP (HTTP/2) and UDP (HTTP/3). The waypoint reads the
// federation store, not the Kubernetes API, with one exception: its locality. The downward API
// gives a pod its Node's name but not the Node's labels, so the waypoint may get its own Node
// (ClusterRole with `get` on nodes, bound to its ServiceAccount) and read the topology labels
// region, zone and subzone from it at start.
func Objects(s Spec) []client.Object {
	labels := map[string]string{wellknown.ManagedByLabel: wellknown.ManagedByValue}
	maps.Copy(labels, s.selector())
	meta := func(name, ns string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: maps.Clone(labels)}
	}
	name := s.name()
	objs := []client.Object{
		&corev1.ServiceAccount{ObjectMeta: meta(name, s.Namespace)},
		&rbacv1.ClusterRole{
			ObjectMeta: meta(s.rbacName(), ""),
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get"}}},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: meta(s.rbacName(), ""),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: s.rbacName()},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: s.Namespace}},
		},
		deployment(s, meta(name, s.Namespace)),
		service(s, meta(name, s.Namespace)),
	}
	if s.wantsDisruptionBudget() {
		objs = append(objs, disruptionBudget(meta(name, s.Namespace), s.selector()))
	}
	if s.Autoscale != nil {
		objs = append(objs, autoscaler(*s.Autoscale, meta(name, s.Namespace)))
	}
	return objs
}

// service exposes the HBONE port; a shared gateway's lists the namespaces it serves for the
// hub (wellknown.GatewayNamespacesKey).
func service(s Spec, meta metav1.ObjectMeta) *corev1.Service {
	if s.Shared() {
		meta.Annotations = map[string]string{wellknown.GatewayNamespacesKey: strings.Join(s.Serves, ",")}
	}
	return &corev1.Service{
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Type:     s.ServiceType,
			Selector: s.selector(),
			Ports: []corev1.ServicePort{
				{Name: "hbone", Port: wellknown.HBONEPort, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("hbone")},
				{Name: "hbone-h3", Port: wellknown.HBONEPort, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("hbone-h3")},
			},
		},
	}
}

func deployment(s Spec, meta metav1.ObjectMeta) *appsv1.Deployment {
	// With an autoscaler, replicas belong to it: apply leaves the field alone.
	var replicas *int32
	if s.Autoscale == nil {
		replicas = ptr.To(s.Replicas)
	}
	return &appsv1.Deployment{
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: replicas,
			Selector: &metav1.LabelSelector{MatchLabels: s.selector()},
			// A waypoint carries its namespace's cross-cluster traffic: keep every pod serving
			// until its replacement is ready.
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromInt32(1)),
				},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: maps.Clone(meta.Labels)},
				Spec:       podSpec(s),
			},
		},
	}
}

func podSpec(s Spec) corev1.PodSpec {
	nonRoot, id := true, int64(runAsID)
	volumes := []corev1.Volume{secretVolume("certs", s.CertSecret)}
	mounts := []corev1.VolumeMount{{Name: "certs", MountPath: certDir, ReadOnly: true}}
	if s.EtcdSecret != "" {
		volumes = append(volumes, secretVolume("etcd-certs", s.EtcdSecret))
		mounts = append(mounts, corev1.VolumeMount{Name: "etcd-certs", MountPath: etcdCertDir, ReadOnly: true})
	}
	c := container(s)
	c.VolumeMounts = mounts
	return corev1.PodSpec{
		ServiceAccountName:            s.name(),
		NodeSelector:                  s.NodeSelector,
		Tolerations:                   s.Tolerations,
		Affinity:                      affinity(s.AntiAffinity, s.maxPods(), s.selector()),
		TerminationGracePeriodSeconds: ptr.To(s.Drain.gracePeriodSeconds()),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot: &nonRoot, RunAsUser: &id, RunAsGroup: &id, FSGroup: &id,
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{c},
		Volumes:    volumes,
	}
}

func container(s Spec) corev1.Container {
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("admin")}}}
	}
	noEscalation, readOnly := false, true
	return corev1.Container{
		Name:  "waypoint",
		Image: s.Image,
		Env:   env(s),
		Ports: []corev1.ContainerPort{
			{Name: "hbone", ContainerPort: wellknown.HBONEPort, Protocol: corev1.ProtocolTCP},
			{Name: "hbone-h3", ContainerPort: wellknown.HBONEPort, Protocol: corev1.ProtocolUDP},
			{Name: "admin", ContainerPort: AdminPort, Protocol: corev1.ProtocolTCP},
		},
		Resources:      s.resources().requirements(),
		ReadinessProbe: readinessProbe(probe("/readyz")),
		LivenessProbe:  probe("/healthz"),
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: &noEscalation, ReadOnlyRootFilesystem: &readOnly,
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
}

// env configures the waypoint binary through the environment variables its flags default to.
func env(s Spec) []corev1.EnvVar {
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	vars := []corev1.EnvVar{
		field("POD_NAMESPACE", "metadata.namespace"),
		field("NODE_NAME", "spec.nodeName"),
		{Name: "MESHFED_CLUSTER", Value: s.Cluster},
		{Name: "MESHFED_NETWORK", Value: s.Network},
		{Name: "MESHFED_ETCD_ENDPOINTS", Value: strings.Join(s.EtcdEndpoints, ",")},
		{Name: "MESHFED_CERT_FILE", Value: certDir + "/" + corev1.TLSCertKey},
		{Name: "MESHFED_KEY_FILE", Value: certDir + "/" + corev1.TLSPrivateKeyKey},
		{Name: "MESHFED_CA_FILE", Value: certDir + "/" + caKey},
	}
	if s.Shared() {
		vars = append(vars, corev1.EnvVar{Name: GatewayNamespacesEnv, Value: strings.Join(s.Serves, ",")})
	}
	vars = append(vars, s.Drain.env()...)
	if s.Procs > 0 {
		vars = append(vars, corev1.EnvVar{Name: "GOMAXPROCS", Value: strconv.Itoa(int(s.Procs))})
	}
	if s.EtcdSecret != "" {
		vars = append(vars,
			corev1.EnvVar{Name: "MESHFED_ETCD_CERT_FILE", Value: etcdCertDir + "/" + corev1.TLSCertKey},
			corev1.EnvVar{Name: "MESHFED_ETCD_KEY_FILE", Value: etcdCertDir + "/" + corev1.TLSPrivateKeyKey},
			corev1.EnvVar{Name: "MESHFED_ETCD_CA_FILE", Value: etcdCertDir + "/" + caKey},
		)
	}
	return vars
}

// secretVolume mounts a Secret's files readable by the waypoint's group only.
func secretVolume(name, secret string) corev1.Volume {
	mode := int32(0o440)
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret, DefaultMode: &mode}}}
}

// resources are s.Resources, or the defaults for DefaultPodRPS.
func (s Spec) resources() Resources {
	if s.Resources != nil {
		return *s.Resources
	}
	return DefaultResources(DefaultPodRPS, s.Procs)
}

// readinessProbe checks /readyz every 2 s, so that a pod is ready soon after its table has
// synced; a draining waypoint leaves its Services' endpoints at once anyway, since Kubernetes
// takes terminating pods out of them.
func readinessProbe(p *corev1.Probe) *corev1.Probe {
	p.PeriodSeconds = 2
	return p
}
