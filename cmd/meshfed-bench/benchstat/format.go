package benchstat

import "time"

// Duration prints d to the microsecond, and a zero (not measured) as "-".
func Duration(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(time.Microsecond).String()
}

// Signed prints a difference of durations to the microsecond, with its sign.
func Signed(d time.Duration) string {
	if d >= 0 {
		return "+" + d.Round(time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
