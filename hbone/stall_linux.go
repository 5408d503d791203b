package hbone

import (
	"syscall"
	"unsafe"
)

// stalledRetransmits is how many retransmission timeouts in a row of the same unacknowledged
// data mark a TCP connection's path as gone. With Linux's 200 ms minimum RTO they add up to at
// least 1.4 s without an acknowledgement; a live path, even one losing packets, rarely loses
// the same segment three times over.
const stalledRetransmits = 3

// tcpStalled reports whether c has data its peer has not acknowledged through
// stalledRetransmits retransmission timeouts (TCP_INFO). The kernel acknowledges for a peer
// whose process is merely slow, so only a path that drops packets, or a vanished peer,
// stalls. False when c is not a TCP socket or TCP_INFO cannot be read.
func tcpStalled(c syscall.Conn) bool {
	if c == nil {
		return false
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var info syscall.TCPInfo
	var errno syscall.Errno
	err = rc.Control(func(fd uintptr) {
		size := uint32(unsafe.Sizeof(info))
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&size)), 0)
	})
	if err != nil || errno != 0 {
		return false
	}
	return info.Unacked > 0 && info.Retransmits >= stalledRetransmits
}
