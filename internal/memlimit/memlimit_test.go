package memlimit

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		limit   int64
		ok, err bool
	}{
		{"max\n", 0, false, false},
		{"2147483648\n", 2147483648, true, false},
		{"9223372036854771712\n", 0, false, false}, // cgroup v1 without a limit
		{" 1048576 ", 1048576, true, false},
		{"", 0, false, true},
		{"-1", 0, false, true},
		{"0", 0, false, true},
		{"2G", 0, false, true},
		{"99999999999999999999", 0, false, true},
	}
	for _, tt := range tests {
		limit, ok, err := Parse(tt.in)
		if limit != tt.limit || ok != tt.ok || (err != nil) != tt.err {
			t.Errorf("Parse(%q) = %d, %v, %v; want %d, %v, error %v", tt.in, limit, ok, err, tt.limit, tt.ok, tt.err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"max", "2147483648\n", "9223372036854771712", "", "-5", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		limit, ok, err := Parse(s)
		if err != nil && (ok || limit != 0) {
			t.Fatalf("Parse(%q) failed but gave %d, %v", s, limit, ok)
		}
		if ok && (limit <= 0 || limit >= noLimit) {
			t.Fatalf("Parse(%q) gave limit %d", s, limit)
		}
	})
}

// TestReadAndSet reads v2 and v1 layouts, and sets the runtime's limit only without GOMEMLIMIT.
func TestReadAndSet(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	write := func(t *testing.T, root, name, content string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v2, v1, none, unlimited, bad := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	write(t, v2, "memory.max", "2147483648\n")
	write(t, v1, "memory/memory.limit_in_bytes", "1073741824\n")
	write(t, unlimited, "memory.max", "max\n")
	write(t, bad, "memory.max", "lots\n")
	env := func(v string) func(string) string { return func(string) string { return v } }
	tests := []struct {
		name   string
		root   string
		gomem  string
		want   int64
		failed bool
	}{
		{"cgroup v2", v2, "", 1610612736, false},
		{"cgroup v1", v1, "", 805306368, false},
		{"GOMEMLIMIT set", v2, "1GiB", 0, false},
		{"no cgroup files", none, "", 0, false},
		{"no limit", unlimited, "", 0, false},
		{"unreadable limit", bad, "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			got, err := Set(tt.root, env(tt.gomem))
			if got != tt.want || (err != nil) != tt.failed {
				t.Fatalf("Set = %d, %v; want %d, error %v", got, err, tt.want, tt.failed)
			}
			want := tt.want
			if want == 0 {
				want = math.MaxInt64
			}
			if now := debug.SetMemoryLimit(-1); now != want {
				t.Errorf("runtime limit %d, want %d", now, want)
			}
		})
	}
}
