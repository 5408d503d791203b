// Package writeback is the hub's side of a member cluster as seen from the member: the objects
// the hub writes there so that clients can call a global service — a derived Service selecting
// the namespace's waypoint pods and an MCS ServiceImport carrying that Service's ClusterIP and
// the exported Services' merged session affinity, internal traffic policy, traffic
// distribution and (Headless) IP families — and their removal when a service is withdrawn or
// the member leaves. Session affinity and internal traffic policy are recorded on the import
// only: the waypoints behind the derived Service do not honor them.
//
// Desired objects are built by pure functions (desired.go); Member applies them through the
// member's connection, never overwrites an object the hub does not own (it reports the clash
// instead), and returns a Report per global service for the hub's status.
package writeback
