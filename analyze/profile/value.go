package profile

import (
	"math"
	"strconv"
	"strings"
)

// Kind is the type of a counter or info-string value.
type Kind uint8

const (
	Blank    Kind = iota // "- Key" with no value, or "- Group: " opening a counter group
	String               // info strings: states, names, addresses, predicates, JSON
	Count                // 89, 1.218K (1218), 258.794M (258794146), 1.294B (1293970730)
	Bytes                // 283.000 KB, 12.50 GB (1024-based); negative means unset
	Duration             // 736ns, 12.321us, 1s54ms, 9m41s, 5h55m, 0
	Rate                 // anything ending in /sec; Num holds the per-second amount
	Double               // 0.85, 12.5%
	Unknown              // looked like a number with a unit srctl does not know: Raw kept, warning added
)

var kindNames = [...]string{"blank", "string", "count", "bytes", "duration", "rate", "double", "unknown"}

// MarshalText writes the kind's name in JSON output.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a typed value. Int holds counts, bytes and nanoseconds; Num holds doubles and rates.
type Value struct {
	Kind  Kind    `json:"kind"`
	Raw   string  `json:"raw,omitempty"`
	Int   int64   `json:"int,omitempty"`
	Num   float64 `json:"num,omitempty"`
	Unset bool    `json:"unset,omitempty"` // bytes printed negative (-1.000 B): StarRocks' "not set"
}

// NS returns a duration value in nanoseconds (a plain 0 count counts as 0 ns), and whether the
// value is a duration at all.
func (v Value) NS() (int64, bool) {
	switch {
	case v.Kind == Duration:
		return v.Int, true
	case v.Kind == Count && v.Int == 0:
		return 0, true
	}
	return 0, false
}

// parseValue types a raw value. It never fails: what it cannot read stays a String, or an
// Unknown when it has the shape of a number with a unit.
func parseValue(raw string) Value {
	s := strings.TrimSpace(raw)
	v := Value{Raw: s}
	if s == "" {
		v.Kind = Blank
		return v
	}
	if !numericStart(s) {
		v.Kind = String
		return v
	}
	if n, ok := parseInt(s); ok {
		v.Kind, v.Int = Count, n
		return v
	}
	if strings.HasSuffix(s, "/sec") {
		inner := parseValue(strings.TrimSpace(strings.TrimSuffix(s, "/sec")))
		switch inner.Kind {
		case Count, Bytes:
			v.Kind, v.Num = Rate, float64(inner.Int)
			return v
		case Double:
			v.Kind, v.Num = Rate, inner.Num
			return v
		}
	}
	if ns, ok := parseDuration(s); ok {
		v.Kind, v.Int = Duration, ns
		return v
	}
	if b, ok := parseBytes(s); ok {
		v.Kind, v.Int, v.Unset = Bytes, b, b < 0
		return v
	}
	if n, ok := parseSuffixedCount(s); ok {
		v.Kind, v.Int = Count, n
		return v
	}
	if f, ok := parseDouble(s); ok {
		v.Kind, v.Num = Double, f
		return v
	}
	if looksLikeNumberWithUnit(s) {
		v.Kind = Unknown
		return v
	}
	v.Kind = String
	return v
}

// numericStart reports whether s starts like a number: a digit, or '-' and a digit.
func numericStart(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	return c >= '0' && c <= '9' || c == '-' && len(s) > 1 && s[1] >= '0' && s[1] <= '9'
}

func parseInt(s string) (int64, bool) {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9') && !(i == 0 && s[i] == '-') {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func parseDouble(s string) (float64, bool) {
	s = strings.TrimSuffix(s, "%") // a percentage keeps its number: 12.5% is 12.5
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9') && s[i] != '.' && !(i == 0 && s[i] == '-') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// maxAmount is the largest count, byte size or duration (ns) read: 2^62, about 146 years of
// nanoseconds or 4 EiB. Larger values are unreadable (Unknown), never wrapped into negatives,
// and sums of a profile's values saturate at math.MaxInt64 (satAdd).
const maxAmount = 1 << 62

// satAdd is a + b for non-negative amounts, saturating at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// durationUnit reads the unit at the start of s: its length in bytes and nanoseconds, or n == 0
// when none is there. Units are ns, us (or µs, μs), ms, s, m and h; a bare "s" followed by a
// lowercase letter is not a unit (so "5sec" is no duration), and "m" never takes the "m" of "ms".
// A switch on the first byte, not a loop of prefix tests: the collector reads a duration from
// every operator of every profile.
func durationUnit(s string) (ns int64, n int) {
	if s == "" {
		return 0, 0
	}
	second := func(c byte) bool { return len(s) > 1 && s[1] == c }
	switch s[0] {
	case 'n':
		if second('s') {
			return 1, 2
		}
	case 'u':
		if second('s') {
			return 1e3, 2
		}
	case 0xC2, 0xCE: // µ (U+00B5) and μ (U+03BC) in UTF-8
		if len(s) > 2 && (s[0] == 0xC2 && s[1] == 0xB5 || s[0] == 0xCE && s[1] == 0xBC) && s[2] == 's' {
			return 1e3, 3
		}
	case 'm':
		if second('s') {
			return 1e6, 2
		}
		return 60e9, 1
	case 's':
		if len(s) > 1 && s[1] >= 'a' && s[1] <= 'z' {
			return 0, 0
		}
		return 1e9, 1
	case 'h':
		return 3600e9, 1
	}
	return 0, 0
}

// parseDuration reads StarRocks' compound durations: a sequence of number+unit pairs with
// units h, m, s, ms, us, ns (1s54ms, 9m41s, 5h55m, 12.321us, 1.5ms), or a bare 0. Integer
// arithmetic keeps it exact (12.321us is 12321 ns) and fast: it runs on every profile collected.
func parseDuration(s string) (int64, bool) {
	if s == "0" {
		return 0, true
	}
	var total int64
	i := 0
	for i < len(s) {
		var whole, frac, fracScale int64 = 0, 0, 1
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			if whole > 1e15 {
				return 0, false
			}
			whole = whole*10 + int64(s[j]-'0')
			j++
		}
		if j < len(s) && s[j] == '.' {
			j++
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				if fracScale < 1e9 { // digits past nanosecond precision are dropped
					frac, fracScale = frac*10+int64(s[j]-'0'), fracScale*10
				}
				j++
			}
		}
		if j == i || s[i] == '.' && j == i+1 {
			return 0, false
		}
		unit, n := durationUnit(s[j:])
		if n == 0 {
			return 0, false
		}
		part := whole*unit + (frac*unit+fracScale/2)/fracScale
		if whole > maxAmount/unit || part > maxAmount-total {
			return 0, false // 99999999h: unreadable, not wrapped around to a negative
		}
		total += part
		j += n
		i = j
	}
	return total, true
}

// durationValue is parseValue(s).NS() without building the Value: a duration, or a bare 0.
func durationValue(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if !numericStart(s) {
		return 0, false
	}
	if n, ok := parseInt(s); ok {
		return 0, ok && n == 0
	}
	if s == "" || strings.HasSuffix(s, "/sec") {
		return 0, false
	}
	if ns, ok := parseDuration(s); ok {
		return ns, true
	}
	if _, ok := parseBytes(s); ok {
		return 0, false
	}
	n, ok := parseSuffixedCount(s) // a zero count ("0.0K") reads as 0 ns, as in Value.NS
	return 0, ok && n == 0
}

// amountValue is the bytes or count in s as parseValue reads them (false for anything else,
// and for unset negative bytes).
func amountValue(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if !numericStart(s) {
		return 0, false
	}
	if n, ok := parseInt(s); ok {
		return n, true
	}
	if n, ok := rawCount(s); ok {
		return n, true
	}
	if s == "" || strings.HasSuffix(s, "/sec") {
		return 0, false
	}
	if _, ok := parseDuration(s); ok {
		return 0, false
	}
	if b, ok := parseBytes(s); ok {
		return b, b >= 0
	}
	return parseSuffixedCount(s)
}

// byteUnit is the multiplier of a byte-size unit (B, KB, MB, GB, TB, PB), 0 for anything else.
func byteUnit(unit string) float64 {
	switch unit {
	case "B":
		return 1
	case "KB":
		return 1 << 10
	case "MB":
		return 1 << 20
	case "GB":
		return 1 << 30
	case "TB":
		return 1 << 40
	case "PB":
		return 1 << 50
	}
	return 0
}

// parseBytes reads "283.000 KB", "0.000 B", "-1.000 B" (unset), "12.50 GB".
func parseBytes(s string) (int64, bool) {
	num, unit, ok := strings.Cut(s, " ")
	if !ok {
		return 0, false
	}
	mult := byteUnit(unit)
	if mult == 0 {
		return 0, false
	}
	f, ok := parseDouble(num)
	if !ok || strings.HasSuffix(num, "%") || math.Abs(f*mult) > maxAmount {
		return 0, false
	}
	return int64(f*mult + copysignHalf(f)), true
}

func copysignHalf(f float64) float64 {
	if f < 0 {
		return -0.5
	}
	return 0.5
}

// rawCount is the common shape of a count, "1.218K (1218)", read without floating point: the
// number in parentheses, when s is exactly -?D{1,9}(.D+)?[KMB] (-?D{1,18}) (D a digit). Such a
// string is no duration and no byte size, and its head is a number below 1e9 before the
// suffix, so parseSuffixedCount would return the same; anything else (false) takes the general
// path. (Counts are most of the values the collector reads from every profile.)
func rawCount(s string) (int64, bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	d := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == d || i-d > 9 {
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		f := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == f {
			return 0, false
		}
	}
	if i+2 >= len(s) || (s[i] != 'K' && s[i] != 'M' && s[i] != 'B') || s[i+1] != ' ' || s[i+2] != '(' {
		return 0, false
	}
	raw := s[i+3:]
	if len(raw) < 2 || raw[len(raw)-1] != ')' {
		return 0, false
	}
	raw = raw[:len(raw)-1]
	neg := raw[0] == '-'
	if neg {
		raw = raw[1:]
	}
	if raw == "" || len(raw) > 18 {
		return 0, false
	}
	var n int64
	for j := 0; j < len(raw); j++ {
		c := raw[j]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseSuffixedCount reads "1.218K (1218)" (the exact number in parentheses wins) and "1.2K"
// alone. B is billion.
func parseSuffixedCount(s string) (int64, bool) {
	head, rest, hasRaw := strings.Cut(s, " (")
	if hasRaw {
		if !strings.HasSuffix(rest, ")") {
			return 0, false
		}
		n, ok := parseInt(strings.TrimSuffix(rest, ")"))
		if !ok {
			return 0, false
		}
		if _, ok := suffixed(head); !ok {
			return 0, false
		}
		return n, true
	}
	return suffixed(head)
}

func suffixed(s string) (int64, bool) {
	if len(s) < 2 {
		return 0, false
	}
	var mult float64
	switch s[len(s)-1] {
	case 'K':
		mult = 1e3
	case 'M':
		mult = 1e6
	case 'B':
		mult = 1e9
	default:
		return 0, false
	}
	f, ok := parseDouble(s[:len(s)-1])
	if !ok || math.Abs(f*mult) > maxAmount {
		return 0, false
	}
	return int64(f*mult + 0.5), true
}

// looksLikeNumberWithUnit is the shape of a value srctl should have understood: digits, then
// either letters glued to them (12XB, 5parsecs) or a space and a short upper-case unit (12.3 XB),
// optionally per second. Values such as "2 partitions" or "2 partitionStats" are info strings,
// and dates, versions, addresses and ids contain '-' or ':' after the digits.
func looksLikeNumberWithUnit(s string) bool {
	i := 0
	if s[0] == '-' {
		i = 1
	}
	j := i
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
		j++
	}
	if j == i || j == len(s) {
		return false
	}
	rest, spaced := s[j:], s[j] == ' '
	rest = strings.TrimSuffix(strings.TrimLeft(rest, " "), "/sec")
	if rest == "" || (spaced && len(rest) > 3) {
		return false
	}
	for k := 0; k < len(rest); k++ {
		c := rest[k]
		upper := c >= 'A' && c <= 'Z'
		if !(upper || !spaced && (c >= 'a' && c <= 'z' || c == '/')) {
			return false
		}
	}
	return true
}
