// Package resource knows meshfed's resource kinds as meshfedctl's get, describe and completion
// name them — plural, singular and short names (globalservices, gs, gsvc; memberclusters, mc;
// segments, seg) — and prints each kind as a table, kubectl style, with -o wide adding columns.
// Tables are pure functions of the objects and the time, so their golden files are stable.
package resource
