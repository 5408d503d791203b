package waypoint

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshfedv1 "github.com/meshfed/meshfed/apis/v1alpha1"
	"github.com/meshfed/meshfed/federation/controller"
)

// AdminPort serves the waypoint's /healthz, /readyz and /debug/endpoints.
const AdminPort = 15021

// Spec is what a waypoint Deployment needs to know about its cluster.
type Spec struct {
	Namespace     string
	Cluster       string
	Network       string
	Image         string
	EtcdEndpoints []string
	Replicas      int32
}

// Objects are the waypoint's objects in creation order. Its pods carry the label the hub's
// derived Services select (controller.WaypointSelector); the Service exposes the HBONE port
// on TCP (HTTP/2) and UDP (HTTP/3). The waypoint reads only the federation store, so it needs no
// Kubernetes RBAC.
func Objects(s Spec) []client.Object {
	labels := map[string]string{meshfedv1.ManagedByLabel: meshfedv1.ManagedByValue}
	for k, v := range controller.WaypointSelector() {
		labels[k] = v
	}
	meta := metav1.ObjectMeta{Name: meshfedv1.WaypointName, Namespace: s.Namespace, Labels: labels}
	return []client.Object{
		&corev1.ServiceAccount{ObjectMeta: meta},
		deployment(s, meta),
		&corev1.Service{
			ObjectMeta: meta,
			Spec: corev1.ServiceSpec{
				Selector: controller.WaypointSelector(),
				Ports: []corev1.ServicePort{
					{Name: "hbone", Port: meshfedv1.HBONEPort, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(meshfedv1.HBONEPort)},
					{Name: "hbone-h3", Port: meshfedv1.HBONEPort, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(meshfedv1.HBONEPort)},
				},
			},
		},
	}
}

func deployment(s Spec, meta metav1.ObjectMeta) *appsv1.Deployment {
	env := []corev1.EnvVar{
		{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
		{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
		{Name: "MESHFED_CLUSTER", Value: s.Cluster},
		{Name: "MESHFED_NETWORK", Value: s.Network},
		{Name: "MESHFED_ETCD_ENDPOINTS", Value: strings.Join(s.EtcdEndpoints, ",")},
	}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(AdminPort)}}}
	}
	nonRoot, noEscalation, readOnly := true, false, true
	replicas := s.Replicas
	return &appsv1.Deployment{
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: controller.WaypointSelector()},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: meta.Labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: meshfedv1.WaypointName,
					Containers: []corev1.Container{{
						Name:  "waypoint",
						Image: s.Image,
						Env:   env,
						Ports: []corev1.ContainerPort{
							{Name: "hbone", ContainerPort: meshfedv1.HBONEPort, Protocol: corev1.ProtocolTCP},
							{Name: "hbone-h3", ContainerPort: meshfedv1.HBONEPort, Protocol: corev1.ProtocolUDP},
							{Name: "admin", ContainerPort: AdminPort, Protocol: corev1.ProtocolTCP},
						},
						ReadinessProbe: probe("/readyz"),
						LivenessProbe:  probe("/healthz"),
						SecurityContext: &corev1.SecurityContext{
							RunAsNonRoot: &nonRoot, AllowPrivilegeEscalation: &noEscalation, ReadOnlyRootFilesystem: &readOnly,
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
					}},
				},
			},
		},
	}
}
