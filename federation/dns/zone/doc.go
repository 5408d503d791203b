// Package zone turns the global services a member cluster imports into an immutable table of
// DNS records and answers queries from it: A/AAAA and SRV records for
// <name>.<ns>.<segment domain>, for the MCS name <name>.<ns>.svc.clusterset.local and, where
// takeover is on, for <name>.<ns>.svc.<cluster domain>; NXDOMAIN and NODATA with the zone's
// SOA, REFUSED outside its zones, EDNS0 and truncation for UDP.
//
// It is pure (no I/O, no Kubernetes): Build makes a Table from a list of Services, and
// Table.Answer maps a request message to a response message. A Table never changes after
// Build, so a server publishes a new one with an atomic pointer swap and readers never lock.
package zone
