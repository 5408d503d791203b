package waypoint_test

import (
	"io"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshfed/meshfed/cmd/meshfedctl/app"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/cli"
	"github.com/meshfed/meshfed/cmd/meshfedctl/app/waypoint"
)

// TestObjectsEtcdSecret: a TLS store Secret is mounted read-only and its files reach the
// waypoint's --etcd-* flags through their environment variables; without one, neither is there.
func TestObjectsEtcdSecret(t *testing.T) {
	for _, tc := range []struct {
		secret      string
		wantVolumes int
	}{{"", 1}, {"store-client", 2}} {
		objs := waypoint.Objects(waypoint.Spec{Namespace: "shop", CertSecret: "certs", EtcdSecret: tc.secret})
		dep := objs[3].(*appsv1.Deployment)
		pod := dep.Spec.Template.Spec
		if len(pod.Volumes) != tc.wantVolumes || len(pod.Containers[0].VolumeMounts) != tc.wantVolumes {
			t.Errorf("etcd secret %q: %d volumes, %d mounts, want %d", tc.secret, len(pod.Volumes), len(pod.Containers[0].VolumeMounts), tc.wantVolumes)
		}
		env := map[string]string{}
		for _, e := range pod.Containers[0].Env {
			env[e.Name] = e.Value
		}
		for _, name := range []string{"MESHFED_ETCD_CA_FILE", "MESHFED_ETCD_CERT_FILE", "MESHFED_ETCD_KEY_FILE"} {
			if got := env[name]; (got != "") != (tc.secret != "") || (got != "" && !strings.HasPrefix(got, "/etc/meshfed/etcd/")) {
				t.Errorf("etcd secret %q: env %s = %q", tc.secret, name, got)
			}
		}
		for _, m := range pod.Containers[0].VolumeMounts {
			if !m.ReadOnly {
				t.Errorf("volume %s mounted writable", m.Name)
			}
		}
	}
}

// TestApplyRejectsBadFlags: invalid flags fail before any cluster is contacted (the kubeconfig
// does not exist).
func TestApplyRejectsBadFlags(t *testing.T) {
	base := []string{"waypoint", "apply", "-n", "shop", "--cluster", "c", "--network", "n", "--etcd-endpoints", "http://s:2379", "--kubeconfig", "/nonexistent"}
	for name, extra := range map[string][]string{
		"external name":     {"--service-type", string(corev1.ServiceTypeExternalName)},
		"unknown type":      {"--service-type", "Headless"},
		"negative replicas": {"--replicas", "-1"},
		"negative procs":    {"--procs", "-1"},
		"too many procs":    {"--procs", "100000"},
		"no cert secret":    {"--cert-secret", ""},
		"node selector":     {"--node-selector", "role"},
		"toleration":        {"--toleration", "k:Sometimes"},
		"anti-affinity":     {"--anti-affinity", "strict"},
		"pod rps":           {"--pod-rps", "0"},
		"cpu request":       {"--cpu-request", "fast"},
		"limit < request":   {"--memory-request", "1Gi", "--memory-limit", "512Mi"},
		"autoscale":         {"--autoscale", "3:2"},
		"autoscale cpu":     {"--autoscale", "1:2", "--autoscale-cpu", "0"},
		"both":              {"--autoscale", "1:2", "--replicas", "2"},
		"drain":             {"--drain-timeout", "-1s"},
		"no network":        nil,
	} {
		args := append([]string{}, base...)
		if extra == nil {
			args = []string{"waypoint", "apply", "-n", "shop", "--cluster", "c", "--etcd-endpoints", "http://s:2379", "--dry-run"}
		}
		err := app.Run(t.Context(), cli.Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, append(args, extra...))
		if err == nil {
			t.Errorf("%s: apply succeeded", name)
		} else if strings.Contains(err.Error(), "/nonexistent") {
			t.Errorf("%s: flags were not checked before loading the kubeconfig: %v", name, err)
		}
	}
}

// TestObjectsProcs: --procs reaches the pods as GOMAXPROCS; 0 leaves it unset.
func TestObjectsProcs(t *testing.T) {
	for _, tc := range []struct {
		procs int32
		want  string
	}{{0, ""}, {1, "1"}, {waypoint.DefaultProcs, "2"}, {16, "16"}} {
		objs := waypoint.Objects(waypoint.Spec{Namespace: "shop", CertSecret: "certs", Procs: tc.procs})
		got, set := "", false
		for _, e := range objs[3].(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Env {
			if e.Name == "GOMAXPROCS" {
				got, set = e.Value, true
			}
		}
		if got != tc.want || set != (tc.want != "") {
			t.Errorf("procs %d: GOMAXPROCS %q (set %v), want %q", tc.procs, got, set, tc.want)
		}
	}
}
