package benchproc

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on every Linux
// architecture Go supports (sysconf(_SC_CLK_TCK) would need cgo).
const clockTicks = 100

// Usage is one reading of a process's CPU time and memory.
type Usage struct {
	// CPU is user plus system time in seconds since the process started: User + System.
	CPU float64
	// User is the time spent in the process's own code (utime), System the time the kernel
	// spent on its behalf (stime, its system calls); in seconds since the process started.
	User, System float64
	// RSS is the resident set now (VmRSS); HWM its peak since start (VmHWM); both in bytes.
	RSS, HWM uint64
	// Anon is the anonymous part of RSS (RssAnon: heap, stacks), in bytes: the memory that is
	// the process's own, without the file pages (its binary) that processes of one program
	// share. 0 where the kernel does not report it (before Linux 4.5).
	Anon uint64
	// File is the file-backed part of RSS (RssFile: the binary's and libraries' pages), in
	// bytes; 0 where the kernel does not report it, as Anon.
	File uint64
}

// ReadUsage reads /proc/<pid>/stat and /proc/<pid>/status.
func ReadUsage(pid int) (Usage, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	stat, err := os.ReadFile(dir + "stat")
	if err != nil {
		return Usage{}, fmt.Errorf("failed to read process stat %d: %w", pid, err)
	}
	status, err := os.ReadFile(dir + "status")
	if err != nil {
		return Usage{}, fmt.Errorf("failed to read process status %d: %w", pid, err)
	}
	user, system, _, err := parseStat(string(stat))
	if err != nil {
		return Usage{}, err
	}
	mem, err := parseStatus(string(status))
	if err != nil {
		return Usage{}, err
	}
	mem.User, mem.System, mem.CPU = user, system, user+system
	return mem, nil
}

// parseStat returns utime and stime in seconds and the parent's pid from the text of
// /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself hold spaces
// and parentheses, so fields are counted from the last ')'.
func parseStat(s string) (user, system float64, ppid int, err error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, 0, errors.New("failed to parse process stat: no command name")
	}
	// After the name: field 3 (state) onwards; ppid is field 4, utime and stime 14 and 15.
	f := strings.Fields(s[i+1:])
	const parent, utime, stime = 4 - 3, 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, 0, 0, fmt.Errorf("failed to parse process stat: %d fields after the name, want > %d", len(f), stime)
	}
	pp, err := strconv.Atoi(f[parent])
	if err != nil || pp < 0 {
		return 0, 0, 0, fmt.Errorf("failed to parse process stat ppid %q", f[parent])
	}
	u, err := strconv.ParseUint(f[utime], 10, 64)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("failed to parse process stat utime: %w", err)
	}
	st, err := strconv.ParseUint(f[stime], 10, 64)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("failed to parse process stat stime: %w", err)
	}
	return float64(u) / clockTicks, float64(st) / clockTicks, pp, nil
}

// parseStatus returns VmRSS, VmHWM, and RssAnon and RssFile (if there) in bytes, as a Usage
// without CPU, from the text of /proc/<pid>/status.
func parseStatus(s string) (Usage, error) {
	var u Usage
	var seen int
	for line := range strings.Lines(s) {
		key, val, ok := strings.Cut(line, ":")
		if !ok || (key != "VmRSS" && key != "VmHWM" && key != "RssAnon" && key != "RssFile") {
			continue
		}
		kb, err := parseKB(val)
		if err != nil {
			return Usage{}, fmt.Errorf("failed to parse process status %s: %w", key, err)
		}
		switch key {
		case "VmRSS":
			u.RSS = kb << 10
			seen++
		case "VmHWM":
			u.HWM = kb << 10
			seen++
		case "RssAnon":
			u.Anon = kb << 10
		default:
			u.File = kb << 10
		}
	}
	if seen != 2 {
		return Usage{}, errors.New("failed to parse process status: VmRSS or VmHWM missing")
	}
	return u, nil
}

// parseKB parses "   12345 kB".
func parseKB(v string) (uint64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(v), " ")
	if unit != "kB" {
		return 0, fmt.Errorf("unit %q, want kB", unit)
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n > 1<<40 {
		return 0, fmt.Errorf("bad size %q", num)
	}
	return n, nil
}

// maxChildren bounds the children summed into one process's usage.
const maxChildren = 256

// ReadTreeUsage reads pid and its direct children (found by their ppid in /proc) and sums
// their CPU time (user and system apart too), RSS with its anonymous and file parts, and peak
// RSS. A child that exits while it is read is left out. Summing counts the pages the processes
// share (the binary, libc) once per process: the figure is an upper bound, as ps or top would
// add them.
func ReadTreeUsage(pid int) (Usage, error) {
	total, err := ReadUsage(pid)
	if err != nil {
		return Usage{}, err
	}
	for _, c := range children(pid) {
		u, err := ReadUsage(c)
		if err != nil {
			continue // exited meanwhile
		}
		total.Add(u)
	}
	return total, nil
}

// Add adds every figure of v to u's: the usage of two processes together, shared pages
// counted in each.
func (u *Usage) Add(v Usage) {
	u.CPU += v.CPU
	u.User += v.User
	u.System += v.System
	u.RSS += v.RSS
	u.HWM += v.HWM
	u.Anon += v.Anon
	u.File += v.File
}

// children lists the processes whose parent is pid, at most maxChildren.
func children(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil || c == pid {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if _, _, pp, err := parseStat(string(stat)); err == nil && pp == pid {
			out = append(out, c)
			if len(out) == maxChildren {
				break
			}
		}
	}
	return out
}
