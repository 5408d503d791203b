// Package benchproc runs the processes a benchmark measures (built from this module or
// installed) and reads their CPU time and memory from /proc, children included.
package benchproc
