package member

import (
	"errors"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ErrUnsafeKubeconfig marks a kubeconfig the hub refuses: it would make the hub run a command,
// call an auth provider or read a file of its own disk. A member Secret is data, never a way to
// act on the hub.
var ErrUnsafeKubeconfig = errors.New("kubeconfig uses a credential kind the hub refuses")

// ErrInvalidKubeconfig marks a kubeconfig that does not parse or does not name a usable context.
var ErrInvalidKubeconfig = errors.New("invalid kubeconfig")

// RESTConfigFromKubeconfig parses a member's kubeconfig and returns a client config for its
// current context. Only bearer tokens and inline client certificates are accepted; exec plugins,
// auth providers, token files, certificate or key files, and basic auth are refused with
// ErrUnsafeKubeconfig.
func RESTConfigFromKubeconfig(data []byte) (*rest.Config, error) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKubeconfig, err)
	}
	ctxName := cfg.CurrentContext
	kctx, ok := cfg.Contexts[ctxName]
	if ctxName == "" || !ok || kctx == nil {
		return nil, fmt.Errorf("%w: current context %q not found", ErrInvalidKubeconfig, ctxName)
	}
	cluster, ok := cfg.Clusters[kctx.Cluster]
	if !ok || cluster == nil || cluster.Server == "" {
		return nil, fmt.Errorf("%w: cluster %q of context %q has no server", ErrInvalidKubeconfig, kctx.Cluster, ctxName)
	}
	user, ok := cfg.AuthInfos[kctx.AuthInfo]
	if !ok || user == nil {
		return nil, fmt.Errorf("%w: user %q of context %q not found", ErrInvalidKubeconfig, kctx.AuthInfo, ctxName)
	}
	if err := checkCluster(kctx.Cluster, cluster); err != nil {
		return nil, err
	}
	if err := checkUser(kctx.AuthInfo, user); err != nil {
		return nil, err
	}
	// Build from a config holding only the validated context, so nothing else in the file can
	// take part.
	only := clientcmdapi.NewConfig()
	only.Clusters[kctx.Cluster] = cluster
	only.AuthInfos[kctx.AuthInfo] = user
	only.Contexts[ctxName] = &clientcmdapi.Context{Cluster: kctx.Cluster, AuthInfo: kctx.AuthInfo}
	only.CurrentContext = ctxName
	rc, err := clientcmd.NewDefaultClientConfig(*only, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKubeconfig, err)
	}
	return rc, nil
}

func checkCluster(name string, c *clientcmdapi.Cluster) error {
	if c.CertificateAuthority != "" {
		return fmt.Errorf("%w: cluster %q reads certificate-authority from a file; use certificate-authority-data", ErrUnsafeKubeconfig, name)
	}
	return nil
}

func checkUser(name string, u *clientcmdapi.AuthInfo) error {
	refuse := func(what string) error {
		return fmt.Errorf("%w: user %q uses %s; only token or client-certificate-data/client-key-data are accepted", ErrUnsafeKubeconfig, name, what)
	}
	switch {
	case u.Exec != nil:
		return refuse("an exec plugin")
	case u.AuthProvider != nil:
		return refuse("an auth provider")
	case u.TokenFile != "":
		return refuse("a token file")
	case u.ClientCertificate != "" || u.ClientKey != "":
		return refuse("certificate or key files")
	case u.Username != "" || u.Password != "":
		return refuse("basic auth")
	case u.Impersonate != "" || len(u.ImpersonateGroups) > 0 || u.ImpersonateUID != "" || len(u.ImpersonateUserExtra) > 0:
		return refuse("impersonation")
	}
	hasToken := u.Token != ""
	hasCert := len(u.ClientCertificateData) > 0 && len(u.ClientKeyData) > 0
	if !hasToken && !hasCert {
		return fmt.Errorf("%w: user %q has no token and no inline client certificate", ErrInvalidKubeconfig, name)
	}
	return nil
}
