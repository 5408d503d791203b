// Package interop runs meshfed's HBONE dialer and server against Istio's own Go HBONE package
// (istio.io/istio/pkg/hbone) in both directions, and benchmarks the two side by side. It is a
// module of its own so that meshfed's go.mod does not depend on Istio; it holds tests only.
package interop
