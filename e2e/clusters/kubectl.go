package clusters

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// Kubectl runs kubectl against cluster c with its admin kubeconfig; stdin may be nil.
func (s *Set) Kubectl(ctx context.Context, c *Cluster, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.Artifacts.Kubectl(), append([]string{"--kubeconfig", s.Kubeconfig(c)}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("failed to run kubectl %s on %s: %w: %s",
			strings.Join(args, " "), c.Name, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// bootstrap loads the images every cluster needs and applies CoreDNS and the storage objects.
func (s *Set) bootstrap(ctx context.Context, c *Cluster) error {
	if err := s.loadImages(ctx, c, s.Artifacts.PauseImage, s.Artifacts.CoreDNSImage, s.Artifacts.EchoImage); err != nil {
		return err
	}
	manifests, err := bootstrapManifests(c, s.Artifacts)
	if err != nil {
		return err
	}
	return poll(ctx, 2*time.Minute, func() error {
		_, err := s.Kubectl(ctx, c, bytes.NewReader(manifests), "apply", "--server-side", "-f", "-")
		return err
	})
}

// LoadImages copies images from the host's Docker engine into every node's containerd.
func (s *Set) LoadImages(ctx context.Context, images ...string) error {
	for i := range s.Clusters {
		if err := s.loadImages(ctx, &s.Clusters[i], images...); err != nil {
			return err
		}
	}
	return nil
}

// LoadImagesInto copies images from the host's Docker engine into the nodes of cluster c only.
func (s *Set) LoadImagesInto(ctx context.Context, c *Cluster, images ...string) error {
	return s.loadImages(ctx, c, images...)
}

// loadImages copies images into every node of cluster c.
func (s *Set) loadImages(ctx context.Context, c *Cluster, images ...string) error {
	for i := range c.Nodes {
		if err := s.loadImagesOn(ctx, &c.Nodes[i], images...); err != nil {
			return err
		}
	}
	return nil
}

func (s *Set) loadImagesOn(ctx context.Context, n *Node, images ...string) error {
	fmt.Fprintf(s.log, "loading %s into %s\n", strings.Join(images, " "), n.Name)
	// containerd starts with the node: wait for its socket.
	err := poll(ctx, time.Minute, func() error {
		_, err := docker(ctx, nil, "exec", n.Container, "ctr", "version")
		return err
	})
	if err != nil {
		return err
	}
	save := exec.CommandContext(ctx, "docker", append([]string{"save"}, images...)...)
	tar, err := save.StdoutPipe()
	if err != nil {
		return fmt.Errorf("failed to save images for %s: %w", n.Name, err)
	}
	var saveErr bytes.Buffer
	save.Stderr = &saveErr
	if err := save.Start(); err != nil {
		return fmt.Errorf("failed to save images for %s: %w", n.Name, err)
	}
	_, importErr := docker(ctx, tar, "exec", "-i", n.Container, "ctr", "--namespace", "k8s.io", "images", "import",
		"--snapshotter", "overlayfs", "-")
	if err := save.Wait(); err != nil {
		return fmt.Errorf("failed to save images %s: %w: %s", strings.Join(images, " "), err, saveErr.String())
	}
	return importErr
}

// poll calls f until it succeeds or timeout passes, and returns its last error then.
func poll(ctx context.Context, timeout time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up after %s: %w", timeout, err)
		case <-time.After(time.Second):
		}
	}
}

// waitReady waits until every node is Ready and CoreDNS is available in every cluster.
func (s *Set) waitReady(ctx context.Context) error {
	for i := range s.Clusters {
		c := &s.Clusters[i]
		var waits [][]string
		for _, n := range c.Nodes {
			waits = append(waits, []string{"wait", "--for=condition=Ready", "node/" + n.Name, "--timeout=5s"})
		}
		waits = append(waits, []string{"-n", "kube-system", "wait", "--for=condition=Available", "deployment/coredns", "--timeout=5s"})
		for _, args := range waits {
			err := poll(ctx, 3*time.Minute, func() error {
				_, err := s.Kubectl(ctx, c, nil, args...)
				return err
			})
			if err != nil {
				return err
			}
		}
		fmt.Fprintf(s.log, "%s ready: %s\n", c.Name, s.Kubeconfig(c))
	}
	return nil
}
