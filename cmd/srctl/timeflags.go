//go:build !shadowonly

// Time flags: RFC 3339 instants or ages.
package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseWhen reads an RFC 3339 time or an age before now (Go durations plus a d suffix for days).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	age := s
	days := 0.0
	if strings.HasSuffix(s, "d") {
		n, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor an age like 6h or 2d", s)
		}
		days, age = n, "0s"
	}
	d, err := time.ParseDuration(age)
	if err != nil || d < 0 || days < 0 {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor an age like 6h or 2d", s)
	}
	return now.Add(-d - time.Duration(days*24*float64(time.Hour))), nil
}
