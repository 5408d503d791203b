// Package pki builds and checks meshfed's certificates: a certificate authority (the hub's,
// created at first start or the user's own, or a development root of `meshfedctl ca`), the
// federation store's serving certificate, store client certificates whose Common Name is the
// etcd user they authenticate as, and the waypoints' HBONE workload certificates (a SPIFFE ID
// as the one URI SAN, the member cluster in the Subject).
//
// It is the one home of certificate building: the hub, meshfedctl and hbone/identity all use
// it, so that the hub mints exactly the HBONE certificates that hbone/identity verifies. It is
// pure (the standard library only, nothing else of the module, no I/O beyond crypto/rand), and
// it is the one package of hbone that the control plane may import (internal/archtest says so).
package pki
