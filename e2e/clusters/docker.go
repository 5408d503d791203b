package clusters

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// labelSet marks every container and network of a set of clusters with the set's prefix, so that
// Down finds them all, and nothing else.
const labelSet = "meshfed.io/cluster-set"

// labelConfig holds the hash of what a node was created from; a node whose hash differs is
// recreated instead of reused.
const labelConfig = "meshfed.io/cluster-config"

// docker runs the docker CLI and returns its standard output; stdin may be nil.
func docker(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("failed to run docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// listLabeled returns the names of the containers (kind "ps") or networks (kind "network ls")
// labeled with the set's prefix.
func listLabeled(ctx context.Context, kind, prefix string) ([]string, error) {
	args := append(strings.Fields(kind), "--filter", "label="+labelSet+"="+prefix, "--format", "{{.Names}}")
	if kind == "ps" {
		args = append(args, "--all")
	} else {
		args[len(args)-1] = "{{.Name}}"
	}
	out, err := docker(ctx, nil, args...)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// containerState returns whether the container is running and its config label ("" if absent).
func containerState(ctx context.Context, name string) (running bool, config string, err error) {
	out, err := docker(ctx, nil, "inspect", "--format",
		`{{.State.Running}} {{index .Config.Labels "`+labelConfig+`"}}`, name)
	if err != nil {
		return false, "", err
	}
	state, config, _ := strings.Cut(out, " ")
	return state == "true", config, nil
}

// StopComponent stops one of the node's processes (kube-apiserver, kubelet, …) of cluster c and
// keeps it stopped (the node's `meshfed-node stop`, which sends SIGTERM) until StartComponent.
func (s *Set) StopComponent(ctx context.Context, c *Cluster, name string) error {
	if _, err := docker(ctx, nil, "exec", c.Container, "meshfed-node", "stop", name); err != nil {
		return fmt.Errorf("failed to stop %s of %s: %w", name, c.Name, err)
	}
	return nil
}

// StartComponent lets a component stopped by StopComponent run again: the node starts it within
// a second of the stopped process's exit (kube-apiserver drains for up to 60 s after SIGTERM).
func (s *Set) StartComponent(ctx context.Context, c *Cluster, name string) error {
	if _, err := docker(ctx, nil, "exec", c.Container, "meshfed-node", "start", name); err != nil {
		return fmt.Errorf("failed to start %s of %s: %w", name, c.Name, err)
	}
	return nil
}

// KillContainer kills the process of the container with containerd ID id (a pod's
// status.containerStatuses[].containerID without "containerd://") on whichever node of cluster
// c runs it with SIGKILL, through containerd, as a crash or the kernel's OOM killer would: the
// process gets no chance to clean up. The kubelet then restarts the container.
func (s *Set) KillContainer(ctx context.Context, c *Cluster, id string) error {
	if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
		return fmt.Errorf("failed to kill container %q of %s: not a containerd container ID", id, c.Name)
	}
	var errs []error
	for _, n := range c.Nodes {
		// Only the node that runs the container knows its task: the others answer "not found".
		if _, err := docker(ctx, nil, "exec", n.Container, "ctr", "--namespace", "k8s.io", "tasks", "kill", "--signal", "SIGKILL", id); err != nil {
			errs = append(errs, err)
			continue
		}
		return nil
	}
	return fmt.Errorf("failed to kill container %s of %s: %w", id, c.Name, errors.Join(errs...))
}
