package testport

import (
	"net"
	"strconv"
	"testing"
)

func TestPortsAreBelowTheEphemeralRangeFreeAndNeverRepeated(t *testing.T) {
	lo, hi := Range()
	if lo < 1024 || hi < lo || hi >= ephemeralLow() {
		t.Fatalf("range %d-%d, want unprivileged ports below the ephemeral range starting at %d", lo, hi, ephemeralLow())
	}
	seen := map[int]bool{}
	for i := range 50 {
		port := TCP(t, "127.0.0.1")
		if i%2 == 1 {
			port = TCPAndUDP(t, "127.0.0.1")
		}
		if port < lo || port > hi {
			t.Fatalf("port %d outside %d-%d", port, lo, hi)
		}
		if seen[port] {
			t.Fatalf("port %d handed out twice", port)
		}
		seen[port] = true
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("port %d handed out but not free for TCP: %v", port, err)
		}
		_ = l.Close()
		if i%2 == 1 {
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				t.Fatalf("port %d handed out but not free for UDP: %v", port, err)
			}
			_ = pc.Close()
		}
	}
}

func TestTakenPortIsNotHandedOut(t *testing.T) {
	port := TCP(t, "127.0.0.1")
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if free("127.0.0.1", port, false) {
		t.Fatalf("port %d reported free while a listener holds it", port)
	}
	if got := Addr(t, "127.0.0.1"); got == l.Addr().String() {
		t.Fatalf("Addr handed out %s, which a listener holds", got)
	}
}
