package hbone

import (
	"net"
	"net/http"
	"net/netip"
	"testing"
)

func TestSourceOf(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 5}, "10.1.2.3/32"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:10.1.2.3"), Port: 5}, "10.1.2.3/32"},
		{&net.UDPAddr{IP: net.ParseIP("fd00:1:2:3:4:5:6:7"), Port: 5}, "fd00:1:2:3::/64"},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"}, "fe80::/64"},
	}
	for _, tt := range tests {
		if got := sourceOf(tt.addr); got != netip.MustParsePrefix(tt.want) {
			t.Errorf("sourceOf(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
	if got := sourceOfString("[fd00:1:2:3::9]:80"); got != netip.MustParsePrefix("fd00:1:2:3::/64") {
		t.Errorf("sourceOfString = %s", got)
	}
	if got := sourceOfString("not an address"); got.IsValid() {
		t.Errorf("sourceOfString(garbage) = %s", got)
	}
}

// TestAdmission walks the caps: handshakes per source, connections per source, the total,
// tunnels, and that releasing gives every slot back and forgets the source.
func TestAdmission(t *testing.T) {
	a := newAdmission(Limits{MaxConnections: 5, MaxConnectionsPerSource: 3, MaxHandshakesPerSource: 2, MaxTunnels: 3, MaxTunnelsPerSource: 2})
	x, y, z := netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("10.0.0.2/32"), netip.MustParsePrefix("10.0.0.3/32")
	steps := []struct {
		src  source
		want admitVerdict
	}{
		{x, admitted}, {x, admitted}, {x, overHandshakes},
	}
	for i, s := range steps {
		if got := a.admit(s.src); got != s.want {
			t.Fatalf("step %d: admit = %s, want %s", i, got, s.want)
		}
	}
	a.handshakeDone(x)
	if got := a.admit(x); got != admitted {
		t.Fatalf("after a handshake finished: %s", got)
	}
	a.handshakeDone(x)
	if got := a.admit(x); got != overSource {
		t.Fatalf("fourth connection of x: %s, want %s", got, overSource)
	}
	for range 2 {
		if got := a.admit(y); got != admitted {
			t.Fatalf("y: %s", got)
		}
	}
	if got := a.admit(z); got != overTotal {
		t.Fatalf("sixth connection: %s, want %s", got, overTotal)
	}
	for _, want := range []admitVerdict{admitted, admitted, overSourceTunnels} {
		if got := a.admitTunnel(x); got != want {
			t.Fatalf("tunnel of x: %s, want %s", got, want)
		}
	}
	if got := a.admitTunnel(y); got != admitted {
		t.Fatalf("tunnel of y: %s", got)
	}
	if got := a.admitTunnel(z); got != overTunnels {
		t.Fatalf("fourth tunnel: %s, want %s", got, overTunnels)
	}
	for range 3 {
		a.release(x, false)
	}
	a.releaseTunnel(x)
	a.releaseTunnel(x)
	a.releaseTunnel(y)
	a.release(y, true)
	a.release(y, true)
	if a.total != 0 || a.tunnels != 0 || len(a.sources) != 0 {
		t.Fatalf("after releasing everything: total %d, tunnels %d, sources %v", a.total, a.tunnels, a.sources)
	}
	if a.refused[overHandshakes].Load() != 1 || a.refused[overSourceTunnels].Load() != 1 {
		t.Fatal("refusals not counted")
	}
}

// TestTunnelLimit: a caller over MaxTunnelsPerSource gets 503 tunnel-limit, and a closed
// tunnel gives its slot back.
func TestTunnelLimit(t *testing.T) {
	pki := newTestPKI(t, testTrustDomain)
	ts := startServer(t, pki, serverConfig{limits: Limits{MaxTunnelsPerSource: 2}})
	target := upstream(t, echo)
	d := newTestDialer(t, pki.source(t, "ns1", "client"), nil)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			peer := Peer{Address: ts.addr, Protocol: onlyProtocol(p)}
			var open []*Conn
			for range 2 {
				c, err := d.Dial(t.Context(), peer, target, Metadata{})
				if err != nil {
					t.Fatal(err)
				}
				open = append(open, c)
			}
			_, err := d.Dial(t.Context(), peer, target, Metadata{})
			if e := mustKind(t, err, KindUnavailable); e.Status != http.StatusServiceUnavailable || e.Reason != ReasonTunnelLimit {
				t.Fatalf("third tunnel: %v, want 503 %s", err, ReasonTunnelLimit)
			}
			open[0].Close()
			if !waitFor(waitTimeout, func() bool {
				c, err := d.Dial(t.Context(), peer, target, Metadata{})
				if err == nil {
					open[0] = c
				}
				return err == nil
			}) {
				t.Fatal("the slot of a closed tunnel never came back")
			}
			for _, c := range open {
				c.Close()
			}
			waitFor(waitTimeout, func() bool { return ts.srv.ActiveTunnels() == 0 })
		})
	}
}
