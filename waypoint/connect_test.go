package waypoint

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshfed/meshfed/federation/model"
	"github.com/meshfed/meshfed/waypoint/table"
)

func TestAddressRefusal(t *testing.T) {
	tests := []struct {
		addr          string
		want          dialRefusal
		allowLoopback dialRefusal
	}{
		{"10.1.2.3", refuseNone, refuseNone},
		{"192.168.0.10", refuseNone, refuseNone},
		{"203.0.113.5", refuseNone, refuseNone},
		{"fd00::5", refuseNone, refuseNone},
		{"2001:db8::5", refuseNone, refuseNone},
		{"127.0.0.1", refuseLoopback, refuseNone},
		{"127.9.9.9", refuseLoopback, refuseNone},
		{"::1", refuseLoopback, refuseNone},
		{"::ffff:127.0.0.1", refuseLoopback, refuseNone},
		{"0.0.0.0", refuseUnspecified, refuseUnspecified},
		{"0.1.2.3", refuseUnspecified, refuseUnspecified},
		{"::", refuseUnspecified, refuseUnspecified},
		{"169.254.169.254", refuseLinkLocal, refuseLinkLocal},
		{"::ffff:169.254.169.254", refuseLinkLocal, refuseLinkLocal},
		{"fe80::1", refuseLinkLocal, refuseLinkLocal},
		{"224.0.0.1", refuseMulticast, refuseMulticast},
		{"239.1.2.3", refuseMulticast, refuseMulticast},
		{"ff02::1", refuseMulticast, refuseMulticast},
		{"255.255.255.255", refuseMulticast, refuseMulticast},
		{"fe80::1%eth0", refuseInvalid, refuseInvalid},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		if got := addressRefusal(a, false); got != tt.want {
			t.Errorf("addressRefusal(%s) = %s, want %s", tt.addr, got, tt.want)
		}
		if got := addressRefusal(a, true); got != tt.allowLoopback {
			t.Errorf("addressRefusal(%s, allow loopback) = %s, want %s", tt.addr, got, tt.allowLoopback)
		}
	}
	if got := addressRefusal(netip.Addr{}, false); got != refuseInvalid {
		t.Errorf("addressRefusal(invalid) = %s", got)
	}
}

// FuzzAddressRefusal checks the guard's verdict on every address: what it lets through is a
// unicast address that is neither loopback (unless allowed), link-local nor unspecified, and
// an IPv4-mapped IPv6 address gets the verdict of its IPv4 address.
func FuzzAddressRefusal(f *testing.F) {
	f.Add([]byte{127, 0, 0, 1}, false)
	f.Add([]byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, true)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 169, 254, 1, 1}, false)
	f.Fuzz(func(t *testing.T, b []byte, allowLoopback bool) {
		a, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		r := addressRefusal(a, allowLoopback)
		if u := a.Unmap(); u != a && addressRefusal(u, allowLoopback) != r {
			t.Fatalf("%s and %s get different verdicts", a, u)
		}
		if r != refuseNone {
			return
		}
		u := a.Unmap()
		if u.IsUnspecified() || u.IsLinkLocalUnicast() || u.IsMulticast() || u.IsLinkLocalMulticast() || u.IsInterfaceLocalMulticast() ||
			(u.IsLoopback() && !allowLoopback) || (u.Is4() && (u.As4()[0] == 0 || u == netip.AddrFrom4([4]byte{255, 255, 255, 255}))) {
			t.Fatalf("%s let through", a)
		}
	})
}

func TestDialGuardOwnAddresses(t *testing.T) {
	var reads atomic.Int64
	fail := atomic.Bool{}
	g := newDialGuard(false)
	g.interfaceAddrs = func() ([]net.Addr, error) {
		reads.Add(1)
		if fail.Load() {
			return nil, errors.New("netlink unavailable")
		}
		return []net.Addr{
			&net.IPNet{IP: net.ParseIP("127.0.0.1"), Mask: net.CIDRMask(8, 32)},
			&net.IPNet{IP: net.ParseIP("10.9.8.7"), Mask: net.CIDRMask(24, 32)},
			&net.IPNet{IP: net.ParseIP("fd00::7"), Mask: net.CIDRMask(64, 128)},
		}, nil
	}
	tests := []struct {
		target string
		direct bool
		want   bool // refused
	}{
		{"10.9.8.7:15021", true, true},
		{"10.9.8.7:8080", true, true},
		{"[fd00::7]:80", true, true},
		{"[::ffff:10.9.8.7]:80", true, true},
		{"10.9.8.8:8080", true, false},
		// Behind a tunnel the address is in another network and may equal this host's.
		{"10.9.8.7:8080", false, false},
		{"127.0.0.1:8080", false, true},
		{"169.254.169.254:80", false, true},
		{"not an address", true, true},
	}
	for _, tt := range tests {
		err := g.check(tt.target, tt.direct)
		if (err != nil) != tt.want {
			t.Errorf("check(%s, direct %v) = %v, want refused %v", tt.target, tt.direct, err, tt.want)
		}
		if err != nil && !errors.Is(err, ErrEndpointRefused) {
			t.Errorf("check(%s) = %v, want ErrEndpointRefused", tt.target, err)
		}
	}
	if reads.Load() != 1 {
		t.Fatalf("interface addresses read %d times, want once within their TTL", reads.Load())
	}
	if got := g.refused[refuseOwnAddress].Load(); got != 4 {
		t.Fatalf("own-address refusals counted %d, want 4", got)
	}
	// Stale and unreadable: the previous list stays.
	fail.Store(true)
	g.own.Load().at = time.Now().Add(-2 * ownAddrsTTL)
	if err := g.check("10.9.8.7:80", true); err == nil || reads.Load() != 2 {
		t.Fatalf("after a failed reread: %v (%d reads), want still refused", err, reads.Load())
	}
	// With loopback allowed, loopback endpoints pass even though 127.0.0.1 is the host's.
	lab := newDialGuard(true)
	lab.interfaceAddrs = g.interfaceAddrs
	fail.Store(false)
	if err := lab.check("127.0.0.1:8080", true); err != nil {
		t.Fatalf("loopback allowed: %v", err)
	}
	if err := lab.check("10.9.8.7:8080", true); err == nil {
		t.Fatal("own address let through with loopback allowed")
	}
}

// TestForgedEndpointsAreRefused is the regression test for a store record that made the
// waypoint connect to its own loopback ports: endpoints on loopback, link-local and
// unspecified addresses are never dialed, each refusal fails the endpoint (outlier detection
// sees a connect failure) and is counted.
func TestForgedEndpointsAreRefused(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AllowLoopbackEndpoints = false })
	admin := startBackend(t, "admin", "127.0.0.1") // stands for the waypoint's own admin port
	port := int32(freePort(t))
	forged := []model.Endpoint{
		admin.endpoint(sameZone),
		endpoint("169.254.169.254", 80, sameZone),
		endpoint("0.0.0.0", admin.port, sameZone),
	}
	e.put(service(port, model.ModeAny), endpoints("east", forged...))
	e.waitRoute("route", port, func(r *table.Route) bool { return r != nil && len(r.Endpoints) == len(forged) })
	e.eventually("listener", func() bool { return slices.Contains(e.wp.Outbound().Ports(), port) })
	for i := range 6 {
		if name, err := roundTrip(port); err == nil {
			t.Fatalf("connection %d answered by %q through a forged endpoint", i, name)
		}
	}
	if n := admin.accepted.Load(); n != 0 {
		t.Fatalf("the loopback listener accepted %d connections", n)
	}
	m := scrape(t, e)
	for _, reason := range []string{"loopback", "link-local", "unspecified"} {
		key := series("meshfed_waypoint_endpoint_dials_refused_total", map[string]string{"direction": "outbound", "reason": reason})
		if m[key] < 1 {
			t.Errorf("%s = %v, want at least 1", key, m[key])
		}
	}
	row := debugEndpoint(t, e, port, "127.0.0.1:"+strconv.Itoa(int(admin.port)))
	if row.Failures == 0 || row.Failures != row.Connects {
		t.Fatalf("loopback endpoint row %+v, want every attempt failed", row)
	}
}
