package framework

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// KubernetesVersion is the release of kube-apiserver that e2e/tools/build.sh
// builds; it names the default assets directory.
const KubernetesVersion = "v1.37.2"

// Environment variables that choose where the test binaries are found, in
// order of precedence.
const (
	// EnvKubebuilderAssets is envtest's own variable for the binaries directory.
	EnvKubebuilderAssets = "KUBEBUILDER_ASSETS"
	// EnvToolsDir is the output directory of e2e/tools/build.sh.
	EnvToolsDir = "MESHFED_TOOLS_DIR"
)

// Names of the binaries the framework runs.
const (
	apiServerBinary = "kube-apiserver"
	etcdBinary      = "etcd"
)

// ErrToolsMissing reports that kube-apiserver or etcd is not where AssetsDir
// points; run `make tools` (bash e2e/tools/build.sh) to build them.
var ErrToolsMissing = errors.New("test binaries missing: run `make tools` (bash e2e/tools/build.sh)")

// AssetsDir returns the directory holding kube-apiserver and etcd:
// $KUBEBUILDER_ASSETS if set, else $MESHFED_TOOLS_DIR, else
// ${XDG_CACHE_HOME:-$HOME/.cache}/meshfed/k8s-<KubernetesVersion>, the same
// default that e2e/tools/build.sh writes to.
func AssetsDir() (string, error) {
	for _, env := range []string{EnvKubebuilderAssets, EnvToolsDir} {
		if dir := os.Getenv(env); dir != "" {
			return dir, nil
		}
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("failed to find home directory for assets dir %s: %w", KubernetesVersion, err)
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "meshfed", "k8s-"+KubernetesVersion), nil
}

// binaries returns the paths of kube-apiserver and etcd in AssetsDir, or an
// error wrapping ErrToolsMissing when either is not an executable file.
func binaries() (apiServer, etcd string, err error) {
	dir, err := AssetsDir()
	if err != nil {
		return "", "", err
	}
	apiServer = filepath.Join(dir, apiServerBinary)
	etcd = filepath.Join(dir, etcdBinary)
	for _, path := range []string{apiServer, etcd} {
		if err := checkExecutable(path); err != nil {
			return "", "", fmt.Errorf("failed to find test binary %s: %w: %w", path, ErrToolsMissing, err)
		}
	}
	return apiServer, etcd, nil
}

// checkExecutable fails unless path is a regular file with an execute bit.
func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("not an executable file: %s", info.Mode())
	}
	return nil
}
