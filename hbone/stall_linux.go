package hbone

import (
	"syscall"
	"time"
	"unsafe"
)

// ackSamplesSupported reports whether readAckSample can read anything: TCP_INFO is Linux's.
const ackSamplesSupported = true

// readAckSample reads c's acknowledgement state from TCP_INFO: how many segments the peer has
// not acknowledged (tcpi_unacked), how long ago the last acknowledgement arrived
// (tcpi_last_ack_recv, jiffy resolution) and whether a retransmission timeout has fired since
// the last one that acknowledged new data (tcpi_retransmits, which the kernel zeroes when an
// acknowledgement moves the unacknowledged edge). False when c is not a TCP socket or TCP_INFO
// cannot be read.
func readAckSample(c syscall.Conn) (ackSample, bool) {
	if c == nil {
		return ackSample{}, false
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return ackSample{}, false
	}
	var info syscall.TCPInfo
	var errno syscall.Errno
	err = rc.Control(func(fd uintptr) {
		size := uint32(unsafe.Sizeof(info))
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&size)), 0)
	})
	if err != nil || errno != 0 {
		return ackSample{}, false
	}
	return ackSample{
		unacked:  info.Unacked,
		sinceAck: time.Duration(info.Last_ack_recv) * time.Millisecond,
		timedOut: info.Retransmits > 0,
	}, true
}
