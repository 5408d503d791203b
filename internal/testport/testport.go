package testport

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// defaultEphemeralLow is Linux's default first ephemeral port, used where
// /proc/sys/net/ipv4/ip_local_port_range cannot be read.
const defaultEphemeralLow = 32768

// attempts bounds the search for a free port.
const attempts = 100

var (
	mu sync.Mutex
	// given holds the ports this process handed out: never twice, even once released.
	given = map[int]bool{}
)

// TCP returns a port on host (an IP address) that is free for TCP and was handed to no other
// caller of this process.
func TCP(t testing.TB, host string) int {
	t.Helper()
	return pick(t, host, false)
}

// TCPAndUDP returns a port on host that is free for both TCP and UDP (DNS, HBONE).
func TCPAndUDP(t testing.TB, host string) int {
	t.Helper()
	return pick(t, host, true)
}

// Addr returns host:port with a port from TCP.
func Addr(t testing.TB, host string) string {
	t.Helper()
	return net.JoinHostPort(host, strconv.Itoa(TCP(t, host)))
}

// AddrTCPAndUDP returns host:port with a port from TCPAndUDP.
func AddrTCPAndUDP(t testing.TB, host string) string {
	t.Helper()
	return net.JoinHostPort(host, strconv.Itoa(TCPAndUDP(t, host)))
}

func pick(t testing.TB, host string, udp bool) int {
	t.Helper()
	lo, hi := Range()
	mu.Lock()
	defer mu.Unlock()
	for range attempts {
		port := lo + rand.IntN(hi-lo+1)
		if given[port] || !free(host, port, udp) {
			continue
		}
		given[port] = true
		return port
	}
	t.Fatalf("failed to find a free port on %s in %d-%d after %d attempts", host, lo, hi, attempts)
	return 0
}

// free reports whether host:port can be bound for TCP (and UDP) right now.
func free(host string, port int, udp bool) bool {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	defer l.Close()
	if !udp {
		return true
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	_ = pc.Close()
	return true
}

// Range returns the ports handed out: the half of the ports below the ephemeral range that
// lies just under it (16384-32767 with Linux's default range).
func Range() (lo, hi int) {
	low := ephemeralLow()
	return low / 2, low - 1
}

// ephemeralLow reads the first port of the kernel's ephemeral range (Linux's default where it
// cannot be read, or where it starts so low that no range would be left under it).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return defaultEphemeralLow
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return defaultEphemeralLow
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil || low < 2048 {
		return defaultEphemeralLow
	}
	return low
}
