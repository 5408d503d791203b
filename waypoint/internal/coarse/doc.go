// Package coarse runs the waypoint's per-request timers (the per-try timeout and the client
// watch) from one list swept every Tick by a goroutine that runs only while timers are
// pending: they fire up to one tick late, and arming one wakes no thread, which a runtime
// timer that becomes the earliest of its P does.
package coarse
