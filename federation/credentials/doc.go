// Package credentials builds the certificates of the federation store: a certificate authority
// (created by the hub at first start, or the user's own), the store's serving certificate and
// client certificates whose Common Name is the etcd user they authenticate as.
//
// It is pure (the standard library only, no Kubernetes, no etcd, no I/O beyond crypto/rand), so
// that the hub, meshfedctl and tests share one way of building and checking these certificates.
package credentials
