package framework_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshfed/meshfed/e2e/framework"
)

// holdClusterEnv makes TestClustersDieWithTheTestProcess, run again as a child of itself,
// start a cluster and hold it instead.
const holdClusterEnv = "MESHFED_TEST_HOLD_CLUSTER"

// TestClustersDieWithTheTestProcess: the kube-apiserver and etcd of a test process that is
// killed outright (as go test -timeout or a signal does; no Cleanup runs) exit with it. The
// test runs this test binary again with holdClusterEnv set; that child starts one cluster,
// says so on stdout and waits (at most a minute) to be killed.
func TestClustersDieWithTheTestProcess(t *testing.T) {
	if os.Getenv(holdClusterEnv) == "1" {
		framework.Start(t, 1)
		os.Stdout.WriteString("HOLDING\n")
		time.Sleep(time.Minute)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("parent-death signals are Linux's")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatalf("setpriv (util-linux) binds the control planes to the test process: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestClustersDieWithTheTestProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), holdClusterEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	held := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "HOLDING" {
				held <- true
				return
			}
		}
		held <- false
	}()
	select {
	case ok := <-held:
		if !ok {
			t.Fatal("the child ended without holding a cluster")
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the child did not start its cluster within 2 minutes")
	}
	children := childrenOf(t, cmd.Process.Pid)
	names := map[string]bool{}
	for _, c := range children {
		names[c.name] = true
	}
	if !names["etcd"] || !names["kube-apiserver"] {
		t.Fatalf("children of the child test process = %v, want etcd and kube-apiserver", children)
	}

	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	killed = true
	deadline := time.Now().Add(15 * time.Second)
	for {
		var running []child
		for _, c := range children {
			if c.alive() {
				running = append(running, c)
			}
		}
		if len(running) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, c := range running {
				_ = syscall.Kill(c.pid, syscall.SIGKILL) // started by this test, through the child
			}
			t.Fatalf("%v still ran 15s after their test process was killed", running)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// child is a process started by another.
type child struct {
	pid   int
	name  string
	start string // start time in clock ticks, so that a reused pid is not mistaken for it
}

func (c child) String() string { return c.name + "/" + strconv.Itoa(c.pid) }

// alive reports whether c still runs (a zombie or a new process with its pid does not count).
func (c child) alive() bool {
	_, state, start, ok := readStat(c.pid)
	return ok && state != "Z" && start == c.start
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(t *testing.T, pid int) []child {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []child
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, _, start, ok := readStat(p)
		if !ok || ppid != pid {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil {
			continue
		}
		out = append(out, child{pid: p, name: strings.TrimSpace(string(comm)), start: start})
	}
	return out
}

// readStat returns the parent pid, state and start time of pid from /proc/<pid>/stat.
func readStat(pid int) (ppid int, state, start string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command may hold spaces and parentheses
	if i < 0 {
		return 0, "", "", false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state), f[1] field 4 (ppid), f[19] field 22 (starttime)
	if len(f) < 20 {
		return 0, "", "", false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0], f[19], err == nil
}
