package framework

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// stopTimeout bounds a graceful stop of etcd or kube-apiserver before envtest
// kills it.
const stopTimeout = 5 * time.Second

// Start starts n independent control planes in parallel, installs the MCS
// CRDs and the CRDs under deploy/crds/ in each, and registers t.Cleanup to
// stop them. It fails the test (it does not skip it) when the binaries are
// missing or any cluster does not come up.
func Start(t testing.TB, n int, opts ...Option) []*Cluster {
	t.Helper()
	routeLogs()
	began := time.Now()
	clusters, err := start(t, n, newOptions(opts))
	if errors.Is(err, ErrToolsMissing) {
		t.Fatalf("kube-apiserver and etcd are needed to run this test; build them with `make tools` "+
			"(or point %s at them): %v", EnvKubebuilderAssets, err)
		return nil
	}
	if err != nil {
		t.Fatalf("failed to start %d clusters: %v", n, err)
		return nil
	}
	t.Logf("started %d clusters in %s", n, time.Since(began).Round(time.Millisecond))
	return clusters
}

// start does the work of Start and returns the first error.
func start(t testing.TB, n int, o *options) ([]*Cluster, error) {
	names, err := clusterNames(n, o.names)
	if err != nil {
		return nil, err
	}
	apiServer, etcd, err := binaries()
	if err != nil {
		return nil, err
	}
	scheme, err := NewScheme(o.schemeFuncs...)
	if err != nil {
		return nil, err
	}
	crds, err := collectCRDs(o)
	if err != nil {
		return nil, err
	}
	base := t.TempDir()
	clusters := make([]*Cluster, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			spec := clusterSpec{
				name: name, dir: filepath.Join(base, name), apiServer: apiServer, etcd: etcd,
				scheme: scheme, crds: crds, opts: o,
			}
			clusters[i], errs[i] = spec.start()
		})
	}
	wg.Wait()
	for _, c := range clusters {
		if c != nil {
			t.Cleanup(func() {
				if err := c.shutdown(); err != nil {
					t.Errorf("%v", err)
				}
			})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return clusters, nil
}

// clusterNames returns the given names after checking them, or cluster-1 …
// cluster-n when none are given.
func clusterNames(n int, given []string) ([]string, error) {
	if n < 1 {
		return nil, fmt.Errorf("failed to start clusters: count %d is below 1", n)
	}
	if len(given) == 0 {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("cluster-%d", i+1)
		}
		return names, nil
	}
	if len(given) != n {
		return nil, fmt.Errorf("failed to name clusters: %d names for %d clusters", len(given), n)
	}
	seen := map[string]bool{}
	for _, name := range given {
		if name == "" || seen[name] || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
			return nil, fmt.Errorf("failed to name clusters: name %q is empty, repeated or not a file name", name)
		}
		seen[name] = true
	}
	return given, nil
}

// collectCRDs gathers the MCS CRDs, the repository's deploy/crds/ (when it
// exists) and every WithCRDDir directory.
func collectCRDs(o *options) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	crds, err := MCSCRDs()
	if err != nil {
		return nil, err
	}
	dirs := o.crdDirs
	if !o.noRepoCRDs {
		repoDir, err := repoCRDDir()
		if err != nil {
			return nil, err
		}
		if repoDir != "" {
			dirs = append([]string{repoDir}, dirs...)
		}
	}
	for _, dir := range dirs {
		loaded, err := LoadCRDDir(dir)
		if err != nil {
			return nil, err
		}
		crds = append(crds, loaded...)
	}
	return crds, nil
}

// repoCRDDir returns deploy/crds/ of the repository holding the working
// directory, or "" when that directory does not exist yet.
func repoCRDDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("failed to get working directory for CRDs %s: %w", RepoCRDDir, err)
	}
	root, err := RepoRoot(wd)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, filepath.FromSlash(RepoCRDDir))
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("failed to stat CRD dir %s: %w", dir, err)
	}
	return dir, nil
}

// clusterSpec is everything needed to start one cluster.
type clusterSpec struct {
	name, dir, apiServer, etcd string
	scheme                     *runtime.Scheme
	crds                       []*apiextensionsv1.CustomResourceDefinition
	opts                       *options
}

// start brings up one control plane; on error nothing is left running.
func (s clusterSpec) start() (*Cluster, error) {
	env, err := s.environment()
	if err != nil {
		return nil, err
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("failed to start cluster %s: %w", s.name, err), env.Stop())
	}
	c, err := client.New(cfg, client.Options{Scheme: s.scheme})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("failed to create client for cluster %s: %w", s.name, err), env.Stop())
	}
	cluster := &Cluster{
		Name: s.name, Config: cfg, Client: c, Scheme: s.scheme,
		env: env, readyTimeout: s.opts.startTimeout, running: true,
	}
	if err := cluster.waitReady(); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	return cluster, nil
}

// environment builds the envtest environment with directories the framework
// owns: envtest would delete directories it made itself on Stop, and with
// them etcd's data and the API server's serving certificate.
func (s clusterSpec) environment() (*envtest.Environment, error) {
	certDir := filepath.Join(s.dir, "apiserver")
	dataDir := filepath.Join(s.dir, "etcd")
	for _, dir := range []string{certDir, dataDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("failed to create directory %s: %w", dir, err)
		}
	}
	out := s.opts.output
	if out == nil {
		out = io.Discard
	}
	apiServer, err := boundToTest(s.dir, s.apiServer)
	if err != nil {
		return nil, err
	}
	etcd, err := boundToTest(s.dir, s.etcd)
	if err != nil {
		return nil, err
	}
	server := &envtest.APIServer{Path: apiServer, CertDir: certDir, Out: out, Err: out}
	configureAPIServer(server, s.opts.apiServerArg)
	crds := make([]*apiextensionsv1.CustomResourceDefinition, len(s.crds))
	for i, crd := range s.crds {
		crds[i] = crd.DeepCopy()
	}
	return &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			APIServer: server,
			Etcd:      &envtest.Etcd{Path: etcd, DataDir: dataDir, Out: out, Err: out},
		},
		Scheme:                   s.scheme,
		CRDInstallOptions:        envtest.CRDInstallOptions{CRDs: crds, MaxTime: s.opts.startTimeout},
		ControlPlaneStartTimeout: s.opts.startTimeout,
		ControlPlaneStopTimeout:  stopTimeout,
	}, nil
}
