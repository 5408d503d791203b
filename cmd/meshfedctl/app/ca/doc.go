// Package ca implements `meshfedctl ca`: a development root CA and workload certificates with
// SPIFFE URI SANs. It exists so that HBONE can run with mutual TLS before cert-manager or
// SPIRE are set up; production certificates come from those.
package ca
