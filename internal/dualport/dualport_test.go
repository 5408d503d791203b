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
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.LocalAddr().String()
	_, _, err = dualport.Listen(addr)
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
