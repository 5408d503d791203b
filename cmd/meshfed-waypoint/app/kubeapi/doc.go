// Package kubeapi reads a Node's labels from the Kubernetes API with net/http: the
// waypoint's only call to Kubernetes, made once at start to learn its locality.
//
// It reads the pod's service account (InCluster) or the current context of a kubeconfig
// (FromKubeconfig: a token, a token file, a client certificate or basic authentication; exec
// plugins, auth providers and proxies are refused with an error that says so). It does not use
// client-go: client-go and the API machinery under it were a fifth of the waypoint's binary and
// 4 MiB of every waypoint's resident memory, measured side by side with `meshfed-bench peers`,
// for one GET.
package kubeapi
