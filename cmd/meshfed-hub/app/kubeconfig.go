package app

import (
	"errors"
	"fmt"
	"os"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ErrNoKubeconfig is returned when the hub finds no way to reach its cluster.
var ErrNoKubeconfig = errors.New("no kubeconfig for the hub cluster: pass --kubeconfig FILE or set $KUBECONFIG " +
	"(outside a cluster), or run the hub in a pod of the hub cluster (deploy/hub-embedded)")

// RESTConfig loads the hub cluster's client config: --kubeconfig; else $KUBECONFIG; else, in a
// pod, its service account; else ~/.kube/config. Finding none is ErrNoKubeconfig, which says
// how to pass one (client-go's own message points at an obsolete variable).
func (o *Options) RESTConfig() (*rest.Config, error) {
	if o.Kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("failed to load --kubeconfig %s: %w", o.Kubeconfig, err)
		}
		return cfg, nil
	}
	if os.Getenv(clientcmd.RecommendedConfigPathEnvVar) == "" && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("failed to load the in-cluster config: %w", err)
		}
		return cfg, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	switch {
	case clientcmd.IsEmptyConfig(err):
		return nil, ErrNoKubeconfig
	case err != nil:
		return nil, fmt.Errorf("failed to load kubeconfig %s: %w", rules.GetDefaultFilename(), err)
	}
	return cfg, nil
}
