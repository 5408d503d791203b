package benchproc

import "syscall"

// childAttr makes the kernel kill a child if the benchmark dies without stopping it.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
