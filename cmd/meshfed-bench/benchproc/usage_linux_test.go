package benchproc

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// TestReadUsageUserSystem spins in user code until getrusage, the kernel's other account of
// the same times, shows far more user than system time; ReadUsage must show it the same way
// round.
func TestReadUsageUserSystem(t *testing.T) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		spin()
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		user, system := seconds(ru.Utime), seconds(ru.Stime)
		if user >= 0.3 && user > 3*system {
			break
		}
		if time.Now().After(deadline) {
			t.Skipf("getrusage: user %v s, system %v s after 10 s of spinning", user, system)
		}
	}
	u, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.User <= u.System {
		t.Fatalf("ReadUsage(self) = user %v s, system %v s; want more user than system", u.User, u.System)
	}
}

// sink keeps spin's arithmetic from being optimized away.
var sink uint64

// spin burns some milliseconds of user CPU without a system call.
func spin() {
	x := sink
	for i := range uint64(10_000_000) {
		x = x*6364136223846793005 + i
	}
	sink = x
}

// seconds is a getrusage time in seconds.
func seconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }
