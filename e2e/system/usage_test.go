package system

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

// TestTCPConnections counts this test process's own connections: two dialed to a listener
// count, the accepted ends (whose local port is the listener's) and the listener do not.
func TestTCPConnections(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	port := l.Addr().(*net.TCPAddr).Port
	for range 2 {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		a, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = a.Close() }()
	}
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	p := &Process{Name: "self", cmd: &exec.Cmd{Process: self}}
	got, err := p.TCPConnections(port)
	if err != nil {
		t.Fatal(err)
	}
	if got != 2 {
		t.Errorf("TCPConnections(%d) = %d, want 2", port, got)
	}
	if got, err := p.TCPConnections(port + 1); err != nil || got != 0 {
		t.Errorf("TCPConnections(another port) = %d, %v, want 0", got, err)
	}
}

func TestCountConnections(t *testing.T) {
	table := []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9489 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 2 0 100 0 0 10 0
   1: 0100C80A:D2F0 0100C80A:0050 01 00000000:00000000 00:00000000 00000000     0        0 12 1 0 20 4 30 10 -1
   2: 0100C80A:D2F2 0100C80A:0050 01 00000000:00000000 00:00000000 00000000     0        0 13 1 0 20 4 30 10 -1
   3: 0100C80A:D2F4 0100C80A:0050 06 00000000:00000000 00:00000000 00000000     0        0 14 1 0 20 4 30 10 -1
   4: 0100C80A:D2F6 0100C80A:0051 01 00000000:00000000 00:00000000 00000000     0        0 15 1 0 20 4 30 10 -1
`)
	// 12 is held and established to port 80; 13 is not held; 14 is in TIME_WAIT; 15 is to 81.
	got, err := countConnections(table, 80, map[string]bool{"11": true, "12": true, "14": true, "15": true})
	if err != nil || got != 1 {
		t.Errorf("countConnections = %d, %v, want 1", got, err)
	}
	if _, err := countConnections([]byte("header\nshort line\n"), 80, nil); err == nil {
		t.Error("countConnections of a short line: no error")
	}
}
