package dualport_test

import (
	"net"
	"strings"
	"testing"

	"github.com/meshfed/meshfed/internal/dualport"
)

func TestListenSharesThePort(t *testing.T) {
	tcp, udp, err := dualport.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	defer udp.Close()
	if tcp.Addr().String() != udp.LocalAddr().String() {
		t.Fatalf("tcp %s, udp %s", tcp.Addr(), udp.LocalAddr())
	}
}

// A port taken for UDP by someone else: with port 0 another port is found; with that port
// named, the error says UDP and nothing stays open.
func TestListenAroundATakenPort(t *testing.T) {
	taken, addr := takenUDPPort(t)
	defer taken.Close()
	_, _, err := dualport.Listen(addr)
	if err == nil || !strings.Contains(err.Error(), "failed to listen on udp") {
		t.Fatalf("Listen(%s) = %v, want a UDP error", addr, err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the TCP port stayed open after the failure: %v", err)
	}
	_ = l.Close()
	if _, _, err := dualport.Listen("no-port"); err == nil {
		t.Fatal("an address without a port was accepted")
	}
}

// takenUDPPort takes a loopback UDP port whose TCP twin is free: on a busy machine the kernel
// may hand out, for UDP, the number of a port some TCP socket holds, which would make Listen
// fail on TCP first, for a reason the test is not about.
func takenUDPPort(t *testing.T) (net.PacketConn, string) {
	t.Helper()
	for range 16 {
		udp, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := udp.LocalAddr().String()
		if l, err := net.Listen("tcp", addr); err == nil {
			_ = l.Close()
			return udp, addr
		}
		_ = udp.Close()
	}
	t.Fatal("no loopback UDP port with a free TCP twin in 16 tries")
	return nil, ""
}
