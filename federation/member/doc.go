// Package member is the hub's side of one member cluster: it reads what the cluster exports
// (Services, EndpointSlices, Nodes, Namespaces, ServiceExports) and turns it into the model the
// merge understands, and it guards the credentials the hub uses to reach the cluster.
//
// The conversions here are plain functions of Kubernetes objects, so they are table-tested
// without an API server; the connection and watches build on them.
package member
