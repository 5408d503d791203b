// Package quietconn wraps TCP connections so that, on Linux, Read and Write make raw system
// calls on the non-blocking socket and wait in the network poller, with net.Conn's deadlines,
// Close and errors, instead of going through syscall.Syscall, whose "may block" notice wakes
// the runtime's sysmon thread before nearly every request of a waypoint at a steady rate.
// Elsewhere New returns the connection as it is.
package quietconn
