package benchproc

import (
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// statFixture is /proc/<pid>/stat of a process whose name holds a space and a ')'.
const statFixture = "4242 (meshfed wp) x) S 1 4242 4242 0 -1 4194560 1500 0 0 0 1234 567 0 0 20 0 9 0 1000 800000000 5000 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"

const statusFixture = `Name:	meshfed-waypoi
State:	S (sleeping)
VmPeak:	 1300000 kB
VmHWM:	   30720 kB
VmRSS:	   20480 kB
RssAnon:	   12288 kB
RssFile:	    8192 kB
Threads:	9
`

// TestParseStat: utime (field 14) is the user time and stime (field 15) the system time, not
// the other way round, and they add up to the total of both.
func TestParseStat(t *testing.T) {
	user, system, ppid, err := parseStat(statFixture)
	if err != nil {
		t.Fatal(err)
	}
	if user != 12.34 || system != 5.67 || ppid != 1 {
		t.Fatalf("parseStat = user %v s, system %v s, ppid %d; want 12.34 s, 5.67 s, ppid 1", user, system, ppid)
	}
	if want := (1234.0 + 567.0) / clockTicks; math.Abs(user+system-want) > 1e-9 {
		t.Fatalf("user+system = %v s, want %v s", user+system, want)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 u 12", "1 (x) S 1 2 3 4 5 6 7 8 9 10 11 s", "1 (x) S -1 2 3 4 5 6 7 8 9 10 11 12 13", "1 x S 1"} {
		if _, _, _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q): no error", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	u, err := parseStatus(statusFixture)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Usage{RSS: 20 << 20, HWM: 30 << 20, Anon: 12 << 20, File: 8 << 20}); u != want {
		t.Fatalf("parseStatus = %+v; want %+v", u, want)
	}
	// A kernel before 4.5 has no RssAnon and RssFile: Anon and File are 0.
	if u, err := parseStatus("VmRSS:	1 kB\nVmHWM:	2 kB\n"); err != nil || u != (Usage{RSS: 1 << 10, HWM: 2 << 10}) {
		t.Errorf("parseStatus without RssAnon and RssFile = %+v, %v", u, err)
	}
	for _, bad := range []string{"", "VmRSS:	1 kB\n", "VmRSS:	1 MB\nVmHWM:	1 kB\n", "VmRSS:	x kB\nVmHWM:	1 kB\n", "VmRSS:	1 kB\nVmHWM:	1 kB\nRssAnon:	x kB\n", "VmRSS:	1 kB\nVmHWM:	1 kB\nRssFile:	1 MB\n"} {
		if _, err := parseStatus(bad); err == nil {
			t.Errorf("parseStatus(%q): no error", bad)
		}
	}
}

// TestReadUsageSelf reads this test process: it has used some CPU and holds memory.
func TestReadUsageSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ReadUsage reads /proc, which only Linux has")
	}
	u, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatalf("reading /proc for this process: %v", err)
	}
	if u.RSS == 0 || u.HWM < u.RSS || u.Anon == 0 || u.File == 0 || u.Anon+u.File > u.RSS || u.User < 0 || u.System < 0 || u.CPU != u.User+u.System {
		t.Fatalf("ReadUsage(self) = %+v", u)
	}
}

// FuzzParseStat checks that no /proc text makes the parsers panic or return a negative time,
// and that the user and system times add up to the total of utime and stime.
func FuzzParseStat(f *testing.F) {
	f.Add(statFixture)
	f.Add(statusFixture)
	f.Add("1 ()) S" + strings.Repeat(" 9", 20))
	f.Fuzz(func(t *testing.T, s string) {
		user, system, ppid, err := parseStat(s)
		if err != nil {
			return
		}
		if user < 0 || system < 0 || ppid < 0 {
			t.Fatalf("negative user %v, system %v or ppid %d", user, system, ppid)
		}
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		u, _ := strconv.ParseUint(f[14-3], 10, 64)
		st, _ := strconv.ParseUint(f[15-3], 10, 64)
		if user != float64(u)/clockTicks || system != float64(st)/clockTicks {
			t.Fatalf("user %v s, system %v s; want utime %d and stime %d ticks", user, system, u, st)
		}
		_, _ = parseStatus(s)
	})
}

func TestDeclaresModule(t *testing.T) {
	for _, tt := range []struct {
		gomod string
		want  bool
	}{
		{"module github.com/meshfed/meshfed\n\ngo 1.26\n", true},
		{"// c\nmodule \"github.com/meshfed/meshfed\"\n", true},
		{"module github.com/meshfed/meshfed/e2e\n", false},
		{"go 1.26\n", false},
	} {
		if got := declaresModule(tt.gomod, modulePath); got != tt.want {
			t.Errorf("declaresModule(%q) = %v, want %v", tt.gomod, got, tt.want)
		}
	}
}

// TestChildren finds a child this test started, by its parent pid in /proc.
func TestChildren(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("children reads /proc, which only Linux has")
	}
	cmd := exec.CommandContext(t.Context(), "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep command: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if got := children(os.Getpid()); !slices.Contains(got, cmd.Process.Pid) {
		t.Fatalf("children(self) = %v, want it to hold %d", got, cmd.Process.Pid)
	}
	self, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	tree, err := ReadTreeUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if tree.HWM <= self.HWM {
		t.Fatalf("tree peak %d, self peak %d: the child's memory is not added", tree.HWM, self.HWM)
	}
}

// TestUsageAdd: every figure is added to its own, none to another's.
func TestUsageAdd(t *testing.T) {
	u := Usage{CPU: 3, User: 2, System: 1, RSS: 40, HWM: 50, Anon: 10, File: 30}
	u.Add(Usage{CPU: 0.75, User: 0.5, System: 0.25, RSS: 4, HWM: 5, Anon: 1, File: 3}) // exact in binary
	if want := (Usage{CPU: 3.75, User: 2.5, System: 1.25, RSS: 44, HWM: 55, Anon: 11, File: 33}); u != want {
		t.Fatalf("Add = %+v, want %+v", u, want)
	}
}
