package framework

import (
	"io"
	"time"
)

// Option changes how Start builds the clusters.
type Option func(*options)

// options collects the settings of one Start call.
type options struct {
	schemeFuncs  []SchemeFunc
	names        []string
	crdDirs      []string
	noRepoCRDs   bool
	apiServerArg map[string][]string
	output       io.Writer
	startTimeout time.Duration
}

// defaultStartTimeout bounds the start of one etcd or kube-apiserver; on two
// shared cores four API servers starting at once need well over envtest's 20s.
const defaultStartTimeout = 2 * time.Minute

func newOptions(opts []Option) *options {
	o := &options{startTimeout: defaultStartTimeout, apiServerArg: map[string][]string{}}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// WithScheme adds types (for example meshfed's apis/v1alpha1.AddToScheme) to
// the scheme every Cluster.Client uses.
func WithScheme(add ...SchemeFunc) Option {
	return func(o *options) { o.schemeFuncs = append(o.schemeFuncs, add...) }
}

// WithNames names the clusters; Start fails the test unless it is given
// exactly n names. The default names are cluster-1 … cluster-n.
func WithNames(names ...string) Option {
	return func(o *options) { o.names = append(o.names, names...) }
}

// WithCRDDir installs every CRD YAML file in dir as well; a missing dir fails
// the test.
func WithCRDDir(dir string) Option {
	return func(o *options) { o.crdDirs = append(o.crdDirs, dir) }
}

// WithoutRepoCRDs skips the CRDs under the repository's deploy/crds/; the MCS
// CRDs are always installed.
func WithoutRepoCRDs() Option {
	return func(o *options) { o.noRepoCRDs = true }
}

// WithAPIServerFlag sets a kube-apiserver flag (name without the leading
// dashes), replacing the framework's value for it.
func WithAPIServerFlag(name string, values ...string) Option {
	return func(o *options) { o.apiServerArg[name] = values }
}

// WithOutput copies the stdout and stderr of every etcd and kube-apiserver
// to w, for debugging. All processes write at once, so w must be safe for
// concurrent use (os.Stderr is).
func WithOutput(w io.Writer) Option {
	return func(o *options) { o.output = w }
}

// WithStartTimeout bounds how long one etcd or kube-apiserver may take to
// become healthy (default 2 minutes).
func WithStartTimeout(d time.Duration) Option {
	return func(o *options) { o.startTimeout = d }
}
