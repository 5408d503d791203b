package deploy_test

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	dnsbin "github.com/meshfed/meshfed/cmd/meshfed-dns/app"
	hub "github.com/meshfed/meshfed/cmd/meshfed-hub/app"
	waypointbin "github.com/meshfed/meshfed/cmd/meshfed-waypoint/app"
)

// TestHubFlags parses the hub container's arguments of each hub base with meshfed-hub's own flag
// set and validates them, after expanding $(VAR) references as the kubelet does; a reference to
// a variable the container does not define would reach the hub literally, so it fails.
func TestHubFlags(t *testing.T) {
	for dir, want := range map[string]func(hub.Options) bool{
		"hub": func(o hub.Options) bool {
			return o.LeaderElection && len(o.EtcdEndpoints) > 0 && o.EtcdCertFile != "" && o.EtcdCAFile != ""
		},
		"hub-embedded": func(o hub.Options) bool {
			return o.LeaderElection && len(o.EtcdEndpoints) == 0 && o.DataDir != "" && o.EmbeddedClientURL == "https://0.0.0.0:2379" && !o.EmbeddedInsecure
		},
	} {
		t.Run(dir, func(t *testing.T) {
			dep := deploymentOf(t, dir, "meshfed-hub")
			c := dep.Spec.Template.Spec.Containers[0]
			o := hub.DefaultOptions()
			fs := pflag.NewFlagSet("meshfed-hub", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(expand(t, c)); err != nil {
				t.Fatalf("meshfed-hub rejects the arguments of deploy/%s: %v", dir, err)
			}
			if err := o.Validate(); err != nil {
				t.Fatalf("meshfed-hub options of deploy/%s: %v", dir, err)
			}
			if o.Namespace != dep.Namespace || o.Identity != "pod-name" || !want(o) {
				t.Errorf("deploy/%s configures the hub as %+v", dir, o)
			}
			if o.HealthAddr != ":"+port(t, c, "health") || o.MetricsAddr != ":"+port(t, c, "metrics") {
				t.Errorf("deploy/%s: health %s and metrics %s addresses do not match the container ports", dir, o.HealthAddr, o.MetricsAddr)
			}
			onVolume := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
				return !m.ReadOnly && strings.HasPrefix(o.DataDir+"/", strings.TrimSuffix(m.MountPath, "/")+"/")
			})
			if len(o.EtcdEndpoints) == 0 && !onVolume {
				t.Errorf("deploy/%s: the embedded etcd's --data-dir %s is on no writable volume", dir, o.DataDir)
			}
		})
	}
}

// TestWaypointEnv reads the waypoint template's environment as meshfed-waypoint does and
// validates the options it gets.
func TestWaypointEnv(t *testing.T) {
	dep := deploymentOf(t, "waypoint", "meshfed-waypoint")
	env := map[string]string{"POD_NAMESPACE": dep.Namespace, "NODE_NAME": "node-1"}
	for _, e := range dep.Spec.Template.Spec.Containers[0].Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	o := waypointbin.DefaultOptions(func(k string) string { return env[k] })
	if err := o.Validate(); err != nil {
		t.Fatalf("meshfed-waypoint options from deploy/waypoint: %v", err)
	}
	if o.Cluster != waypointTemplate.Cluster || o.Network != waypointTemplate.Network || !slices.Equal(o.EtcdEndpoints, waypointTemplate.EtcdEndpoints) {
		t.Errorf("waypoint options %+v do not match the template %+v", o, waypointTemplate)
	}
	if o.ShutdownDelay != waypointTemplate.Drain.ShutdownDelay || o.DrainTimeout != waypointTemplate.Drain.Timeout {
		t.Errorf("waypoint drain %s + %s, want the template's %+v", o.ShutdownDelay, o.DrainTimeout, waypointTemplate.Drain)
	}
	if grace := dep.Spec.Template.Spec.TerminationGracePeriodSeconds; grace == nil || time.Duration(*grace)*time.Second <= o.ShutdownDelay+o.DrainTimeout {
		t.Errorf("deploy/waypoint: termination grace period %v does not cover --shutdown-delay %s and --drain-timeout %s", grace, o.ShutdownDelay, o.DrainTimeout)
	}
}

// TestDNSFlags parses the DNS container's arguments with meshfed-dns's own flag set, validates
// them, and checks that the ports the Service targets are the ones it listens on.
func TestDNSFlags(t *testing.T) {
	dep := deploymentOf(t, "dns", "meshfed-dns")
	c := dep.Spec.Template.Spec.Containers[0]
	o := dnsbin.DefaultOptions()
	fs := pflag.NewFlagSet("meshfed-dns", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(expand(t, c)); err != nil {
		t.Fatalf("meshfed-dns rejects the arguments of deploy/dns: %v", err)
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("meshfed-dns options of deploy/dns: %v", err)
	}
	if *dep.Spec.Replicas != 2 {
		t.Errorf("deploy/dns runs %d replicas, want 2", *dep.Spec.Replicas)
	}
	if o.ListenAddress != ":"+port(t, c, "dns") || o.ListenAddress != ":"+port(t, c, "dns-tcp") || o.AdminAddress != ":"+port(t, c, "admin") {
		t.Errorf("deploy/dns: listen %s and admin %s addresses do not match the container ports", o.ListenAddress, o.AdminAddress)
	}
	if grace := dep.Spec.Template.Spec.TerminationGracePeriodSeconds; grace == nil || time.Duration(*grace)*time.Second <= o.ShutdownDelay {
		t.Errorf("deploy/dns: termination grace period %v does not cover --shutdown-delay %s", grace, o.ShutdownDelay)
	}
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand replaces $(VAR) in c's arguments with a sample value of each variable c defines.
func expand(t *testing.T, c corev1.Container) []string {
	t.Helper()
	sample := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			sample[e.Name] = "meshfed-system"
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			sample[e.Name] = "pod-name"
		default:
			sample[e.Name] = e.Value
		}
	}
	var args []string
	for _, a := range c.Args {
		args = append(args, varRef.ReplaceAllStringFunc(a, func(ref string) string {
			name := varRef.FindStringSubmatch(ref)[1]
			v, ok := sample[name]
			if !ok {
				t.Errorf("argument %q refers to $(%s), which the container does not define", a, name)
			}
			return v
		}))
	}
	return args
}

func port(t *testing.T, c corev1.Container, name string) string {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return strconv.Itoa(int(p.ContainerPort))
		}
	}
	t.Fatalf("container %s has no port %s", c.Name, name)
	return ""
}

func deploymentOf(t *testing.T, dir, name string) *appsv1.Deployment {
	t.Helper()
	for _, obj := range render(t, dir) {
		if obj.GetKind() != "Deployment" || obj.GetName() != name {
			continue
		}
		var dep appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &dep); err != nil {
			t.Fatal(err)
		}
		return &dep
	}
	t.Fatalf("deploy/%s renders no Deployment %s", dir, name)
	return nil
}
