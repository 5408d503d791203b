package clusters

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
)

// Artifacts are what the clusters run, as build.sh reports them.
type Artifacts struct {
	// K8sBinDir holds kubelet, kube-proxy, kube-apiserver, kubectl, etcd, ...
	K8sBinDir string
	// NodeImage is the node's Docker image.
	NodeImage string
	// PauseImage, CoreDNSImage and EchoImage are loaded into every node's containerd.
	PauseImage, CoreDNSImage, EchoImage string
}

// Kubectl is the path of the kubectl binary.
func (a *Artifacts) Kubectl() string { return filepath.Join(a.K8sBinDir, "kubectl") }

// Build runs e2e/clusters/build.sh of the repository at root (every step cached) and returns what
// it built; its progress goes to logw.
func Build(ctx context.Context, root string, logw io.Writer) (*Artifacts, error) {
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "e2e", "clusters", "build.sh"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, logw
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("failed to build cluster artifacts with e2e/clusters/build.sh: %w", err)
	}
	return parseArtifacts(out.Bytes())
}

// parseArtifacts reads build.sh's KEY=VALUE lines; every key must be there, once.
func parseArtifacts(out []byte) (*Artifacts, error) {
	a := &Artifacts{}
	fields := map[string]*string{
		"K8S_BIN_DIR": &a.K8sBinDir, "NODE_IMAGE": &a.NodeImage, "PAUSE_IMAGE": &a.PauseImage,
		"COREDNS_IMAGE": &a.CoreDNSImage, "ECHO_IMAGE": &a.EchoImage,
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			return nil, fmt.Errorf("failed to parse build output line %q: want KEY=VALUE", sc.Text())
		}
		dst, known := fields[key]
		switch {
		case !known:
			return nil, fmt.Errorf("failed to parse build output: unknown key %q", key)
		case *dst != "":
			return nil, fmt.Errorf("failed to parse build output: key %s twice", key)
		case value == "":
			return nil, fmt.Errorf("failed to parse build output: key %s is empty", key)
		}
		*dst = value
	}
	for key, dst := range fields {
		if *dst == "" {
			return nil, fmt.Errorf("failed to parse build output: key %s missing", key)
		}
	}
	return a, nil
}
