package lakehouse

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PartitionDir is the Hive partition directory of t (UTC): year=YYYY/month=MM/day=DD/hour=HH.
func PartitionDir(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("year=%04d/month=%02d/day=%02d/hour=%02d", t.Year(), int(t.Month()), t.Day(), t.Hour())
}

// ParsePartition returns the hour a key's Hive partition names (year=/month=/day=/hour= segments
// anywhere in the key; missing lower levels count as their first value). ok is false when the key
// has no year= segment or a segment is not a number.
func ParsePartition(key string) (hour time.Time, ok bool) {
	vals := map[string]int{"month": 1, "day": 1, "hour": 0}
	seenYear := false
	for _, seg := range strings.Split(key, "/") {
		name, val, found := strings.Cut(seg, "=")
		if !found {
			continue
		}
		switch name {
		case "year", "month", "day", "hour":
			n, err := strconv.Atoi(val)
			if err != nil {
				return time.Time{}, false
			}
			vals[name] = n
			seenYear = seenYear || name == "year"
		}
	}
	if !seenYear {
		return time.Time{}, false
	}
	return time.Date(vals["year"], time.Month(vals["month"]), vals["day"], vals["hour"], 0, 0, 0, time.UTC), true
}
