package profile

import (
	"math"
	"testing"
)

func TestParseValue(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		kind  Kind
		i     int64
		num   float64
		unset bool
	}{
		{"89", Count, 89, 0, false},
		{"-1", Count, -1, 0, false},
		{"1.218K (1218)", Count, 1218, 0, false},
		{"258.794M (258794146)", Count, 258794146, 0, false},
		{"1.294B (1293970730)", Count, 1293970730, 0, false},
		{"17.082M", Count, 17082000, 0, false},
		{"0.000 B", Bytes, 0, 0, false},
		{"283.000 KB", Bytes, 289792, 0, false},
		{"12.500 GB", Bytes, 13421772800, 0, false},
		{"4.523 TB", Bytes, 4973091092431, 0, false},
		{"12.50 MB", Bytes, 13107200, 0, false},
		{"-1.000 B", Bytes, -1, 0, true},
		{"736ns", Duration, 736, 0, false},
		{"12.321us", Duration, 12321, 0, false},
		{"5us", Duration, 5000, 0, false},
		{"57.717ms", Duration, 57717000, 0, false},
		{"44ms", Duration, 44000000, 0, false},
		{"1s54ms", Duration, 1054000000, 0, false},
		{"5s499ms", Duration, 5499000000, 0, false},
		{"45s45ms", Duration, 45045000000, 0, false},
		{"9m41s", Duration, 581000000000, 0, false},
		{"2m48s", Duration, 168000000000, 0, false},
		{"5h55m", Duration, 21300000000000, 0, false},
		{"0ns", Duration, 0, 0, false},
		{"1.5ms", Duration, 1500000, 0, false},
		{"0", Count, 0, 0, false},
		{"12.5 MB/sec", Rate, 0, 13107200, false},
		{"1.2K/sec", Rate, 0, 1200, false},
		{"0.85", Double, 0, 0.85, false},
		{"12.5%", Double, 0, 12.5, false},
		{"Finished", String, 0, 0, false},
		{"2025-10-14 21:16:17", String, 0, 0, false},
		{"3.5.2-69de616", String, 0, 0, false},
		{"f7ced74b-a8ff-11f0-b3d8-f69e292b7593", String, 0, 0, false},
		{"10.0.0.1:9060", String, 0, 0, false},
		{"", Blank, 0, 0, false},
		{"12.3 XB", Unknown, 0, 0, false},
		{"5parsecs", Unknown, 0, 0, false},
		{"2 partitions", String, 0, 0, false},
		{"2 partitionStats", String, 0, 0, false},
	} {
		v := parseValue(tc.raw)
		if v.Kind != tc.kind || v.Int != tc.i || v.Num != tc.num || v.Unset != tc.unset || v.Raw != tc.raw {
			t.Errorf("parseValue(%q) = %+v, want kind %s int %d num %v unset %v", tc.raw, v, tc.kind, tc.i, tc.num, tc.unset)
		}
	}
}

// FuzzFastValuePaths holds the scanner's typed fast paths to parseValue.
func FuzzFastValuePaths(f *testing.F) {
	for _, s := range []string{"0", "5", "1s54ms", "12.321us", "1.5ms", "283.000 KB", "-1.000 B", "1.218K (1218)", "1.2K/sec", "12m", "5B", ".5s", "1.s", "9m41s", "0.0001ns",
		"-5M (-3)", "1234567890K (5)", "123456789.5B (7)", "1.K (2)", "5K (-)", "5K ()", "5K (1) ", "0.5K (1234567890123456789)", "12%K (5)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := parseValue(s)
		wantNS, wantOK := v.NS()
		if ns, ok := durationValue(s); ns != wantNS || ok != wantOK {
			t.Fatalf("durationValue(%q) = %d %v, parseValue says %d %v (%+v)", s, ns, ok, wantNS, wantOK, v)
		}
		wantAmount, wantAmountOK := v.Int, !v.Unset && (v.Kind == Bytes || v.Kind == Count)
		if !wantAmountOK {
			wantAmount = 0
		}
		if n, ok := amountValue(s); ok != wantAmountOK || (ok && n != wantAmount) {
			t.Fatalf("amountValue(%q) = %d %v, parseValue says %d %v (%+v)", s, n, ok, wantAmount, wantAmountOK, v)
		}
	})
}

// TestValuesDoNotWrap: amounts beyond what an int64 holds are unreadable, never negative; sums
// saturate.
func TestValuesDoNotWrap(t *testing.T) {
	for _, raw := range []string{"99999999h", "9999999999999999999999h", "5000000000h1s", "1000000000000000000000000000000 GB",
		"99999999999999999999K", "1e30 GB", "18446744073709551616"} {
		v := parseValue(raw)
		if v.Int < 0 || v.Kind == Duration || v.Kind == Bytes || v.Kind == Count && v.Int > maxAmount {
			t.Errorf("parseValue(%q) = %+v: a wrapped or out-of-range amount", raw, v)
		}
		if ns, ok := durationValue(raw); ok || ns < 0 {
			t.Errorf("durationValue(%q) = %d, %v", raw, ns, ok)
		}
		if n, ok := amountValue(raw); ok && (n < 0 || n > maxAmount) {
			t.Errorf("amountValue(%q) = %d", raw, n)
		}
	}
	if v := parseValue("1000000h47m"); v.Kind != Duration || v.Int <= 0 {
		t.Errorf("a large but representable duration: %+v", v)
	}
	if got := satAdd(math.MaxInt64-1, 5); got != math.MaxInt64 {
		t.Errorf("satAdd = %d", got)
	}
}
