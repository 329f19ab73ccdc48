package profile

import (
	"fmt"
	"strconv"
	"time"
)

// FormatNS renders nanoseconds for people: 736ns, 12.32µs, 57.72ms, 1.054s, 2m48s.
func FormatNS(ns int64) string {
	if ns == 0 {
		return "0"
	}
	d := time.Duration(ns)
	switch {
	case d >= time.Minute || d <= -time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second || d <= -time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond || d <= -time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.String()
}

// FormatBytes renders a size with 1024-based units: 948 B, 283.00 KiB, 4.52 GiB.
func FormatBytes(b int64) string {
	const unit = 1024
	neg := b < 0
	if neg {
		b = -b
	}
	s := strconv.FormatInt(b, 10) + " B"
	if b >= unit {
		v, exp := float64(b), 0
		for v >= unit && exp < 5 {
			v /= unit
			exp++
		}
		s = fmt.Sprintf("%.2f %ciB", v, "KMGTP"[exp-1])
	}
	if neg {
		return "-" + s
	}
	return s
}

// FormatCount renders a count: 1218, 12.3K, 258.79M, 1.29B.
func FormatCount(n int64) string {
	a := n
	if a < 0 {
		a = -a
	}
	switch {
	case a >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return strconv.FormatInt(n, 10)
}

// FormatMetric formats an amount in its unit (MetricDelta.Unit): durations, bytes and row or
// other counts in the short forms above; an unknown unit as a plain number.
func FormatMetric(unit string, v int64) string {
	switch unit {
	case "ns":
		return FormatNS(v)
	case "bytes":
		return FormatBytes(v)
	case "rows", "count":
		return FormatCount(v)
	}
	return fmt.Sprint(v)
}
