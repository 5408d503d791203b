// Package framework starts independent, real Kubernetes control planes (etcd
// plus kube-apiserver, through controller-runtime's envtest) for multi-cluster
// tests, with the MCS and meshfed CRDs installed.
// It exists so that every meshfed test that needs "several clusters" gets the
// same hermetic, loopback-only API servers with a stable address that can be
// stopped and restarted to simulate a member API outage.
package framework
