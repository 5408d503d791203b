// Package corefile writes the server blocks through which a member cluster's CoreDNS forwards
// the federation's names to meshfed-dns, and adds them to, or removes them from, a Corefile
// without touching anything else in it.
//
// CoreDNS answers a query from the server block with the most specific zone that contains the
// name, so one block for the federation zones (the segment domains and clusterset.local) and
// one for the exact takeover names (<name>.<ns>.svc.cluster.local) take those names away from
// the cluster's own `.:53` block, while every other name, the rest of cluster.local included,
// stays where it was. meshfed's blocks sit between two marker comments, so that editing them
// again replaces exactly them (as Submariner's operator does for Lighthouse).
package corefile
