//go:build !linux

package waypointbench

import "syscall"

// childAttr is empty where there is no parent-death signal; the benchmark needs /proc anyway.
func childAttr() *syscall.SysProcAttr { return nil }
