package clusters

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// EchoDeployment is a Deployment of the echo image (images/echo) named name in namespace ns of
// cluster c: it answers HTTP on port 8080 with "cluster=<c> pod=<pod> ip=<ip>".
func (s *Set) EchoDeployment(c *Cluster, ns, name string, replicas int) string {
	return s.echoDeployment(c, ns, name, replicas, "")
}

// EchoDeploymentOn is EchoDeployment with one pod bound to node (no scheduler), tolerating
// every taint, so that it runs on that node whatever the node is reserved for.
func (s *Set) EchoDeploymentOn(c *Cluster, ns, name, node string) string {
	return s.echoDeployment(c, ns, name, 1, fmt.Sprintf(`
      nodeName: %s
      tolerations: [{operator: Exists}]`, node))
}

func (s *Set) echoDeployment(c *Cluster, ns, name string, replicas int, placement string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  replicas: %[5]d
  selector:
    matchLabels: {app: %[2]s}
  template:
    metadata:
      labels: {app: %[2]s}
    spec:%[6]s
      terminationGracePeriodSeconds: 1
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
      containers:
        - name: echo
          image: %[4]s
          imagePullPolicy: Never
          args: [serve]
          env:
            - {name: CLUSTER, value: %[3]s}
            - name: POD_NAME
              valueFrom: {fieldRef: {fieldPath: metadata.name}}
            - name: POD_IP
              valueFrom: {fieldRef: {fieldPath: status.podIP}}
          ports:
            - {name: http, containerPort: 8080}
          readinessProbe:
            httpGet: {path: /, port: http}
            periodSeconds: 2
`, ns, name, c.Name, s.Artifacts.EchoImage, replicas, placement)
}

// Apply applies YAML to cluster c (server-side, taking over fields such as replicas that
// `kubectl scale` changed since), creating namespace ns first when it is not "".
func (s *Set) Apply(ctx context.Context, c *Cluster, ns, yaml string) error {
	if ns != "" {
		nsYAML := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "\n"
		if _, err := s.Kubectl(ctx, c, strings.NewReader(nsYAML), "apply", "--server-side", "-f", "-"); err != nil {
			return err
		}
	}
	_, err := s.Kubectl(ctx, c, strings.NewReader(yaml), "apply", "--server-side", "--force-conflicts", "-f", "-")
	return err
}

// Rollout waits until Deployment ns/name of cluster c has rolled out.
func (s *Set) Rollout(ctx context.Context, c *Cluster, ns, name string, timeout time.Duration) error {
	_, err := s.Kubectl(ctx, c, nil, "-n", ns, "rollout", "status", "deployment/"+name,
		"--timeout="+timeout.String())
	return err
}

// PodOf returns the name and IP of a running pod with label app=app in namespace ns of cluster c.
func (s *Set) PodOf(ctx context.Context, c *Cluster, ns, app string) (name, ip string, err error) {
	out, err := s.Kubectl(ctx, c, nil, "-n", ns, "get", "pods", "-l", "app="+app,
		"--field-selector=status.phase=Running", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.podIP}{"\n"}{end}`)
	if err != nil {
		return "", "", err
	}
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	name, ip, ok := strings.Cut(line, " ")
	if !ok || ip == "" {
		return "", "", fmt.Errorf("failed to find a running pod app=%s in %s/%s: got %q", app, c.Name, ns, out)
	}
	return name, ip, nil
}

// Exec runs the echo binary with args in pod ns/pod of cluster c (the image has no shell).
func (s *Set) Exec(ctx context.Context, c *Cluster, ns, pod string, args ...string) (string, error) {
	return s.Kubectl(ctx, c, nil, append([]string{"-n", ns, "exec", pod, "--", "/meshfed-echo"}, args...)...)
}
