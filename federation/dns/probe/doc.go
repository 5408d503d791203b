// Package probe checks, from inside a member cluster, which taken-over names the cluster's own
// DNS already answers as meshfed-dns does, and records them for the hub.
//
// Takeover works by a server block the hub writes into the member's CoreDNS configuration:
// CoreDNS forwards <name>.<ns>.svc.cluster.local to meshfed-dns. The hub's write is not the
// moment clients see the global service: kubelet syncs the ConfigMap into CoreDNS's volume
// within about a minute, and CoreDNS reloads it within its reload interval after that. So
// meshfed-dns asks the cluster's DNS (the nameserver of its own pod) for every name it takes
// over, compares the addresses with its own answer (Confirm), and writes the names answered
// alike into the DNSTakeoverConfigMap (Recorder); the hub reports a takeover active only for a
// name listed there.
//
// Confirm is the comparison, with the exchange injected; Recorder writes the ConfigMap; Loop
// runs both at an interval.
package probe
