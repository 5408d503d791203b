//go:build !linux

package benchproc

import "syscall"

// childAttr is empty where there is no parent-death signal; the benchmarks need /proc anyway.
func childAttr() *syscall.SysProcAttr { return nil }
