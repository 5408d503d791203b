// Package identity parses and formats SPIFFE IDs, issues development certificates and builds
// mutual-TLS configurations from certificate files that reload on rotation.
// HBONE peers authenticate each other by the SPIFFE ID in their certificates' URI SAN, so both
// the tunnel code and the meshfedctl ca command share this package.
package identity
