package framework

import (
	"errors"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ErrNotInline reports a REST config that refers to files; a kubeconfig
// written from it would not work on another machine or in a Secret.
var ErrNotInline = errors.New("REST config refers to files, not inline data")

// Kubeconfig renders cfg as a kubeconfig YAML with one cluster, user and
// context, all called name. Certificates, keys and tokens are inlined; a
// config that points at files is rejected with ErrNotInline.
func Kubeconfig(name string, cfg *rest.Config) ([]byte, error) {
	if cfg.CAFile != "" || cfg.CertFile != "" || cfg.KeyFile != "" || cfg.BearerTokenFile != "" {
		return nil, fmt.Errorf("failed to render kubeconfig %s: %w", name, ErrNotInline)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
		TLSServerName:            cfg.ServerName,
	}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
		Token:                 cfg.BearerToken,
	}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	kc.CurrentContext = name
	data, err := clientcmd.Write(*kc)
	if err != nil {
		return nil, fmt.Errorf("failed to render kubeconfig %s: %w", name, err)
	}
	return data, nil
}
