// Package source feeds meshfed's DNS server from the member cluster it runs in: it watches the
// ServiceImports the hub writes there (labeled app.kubernetes.io/managed-by=meshfed), and the
// MCS EndpointSlices it writes next to them, from which Headless imports' names are made, and
// builds a zone.Table from them after every change.
//
// Where the names come from: the hub already writes, into every member where a global service
// is visible, a ServiceImport named like the service whose spec.ips hold the ClusterIP of the
// service's derived Service in that member; it adds the global service's hostname
// (meshfed.io/hostname) and whether takeover is on there (meshfed.io/takeover). So each
// member's DNS server reads only its own cluster, with a read-only role on ServiceImports (and
// get on Services, to answer a released takeover name as the cluster's DNS would), and
// needs no credentials for the federation store; it answers with the address that is right
// for the asking cluster by construction. The cost is one hop of delay (hub → member API →
// DNS), well under a second.
package source
