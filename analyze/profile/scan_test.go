package profile

import (
	"reflect"
	"strings"
	"testing"
)

// TestScanHeadlinesAgreesWithParse holds the fast path to the tree parser's results.
func TestScanHeadlinesAgreesWithParse(t *testing.T) {
	texts := sampleProfiles(t)
	texts["hand"], texts["generated-1MB"] = readFixture(t, "hand-3x.txt"), bigProfile(t, 1<<20)
	for name, text := range texts {
		want, got := Parse(text).Headlines(), ScanHeadlines(text)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n scan  %+v\n parse %+v", name, got, want)
		}
	}
}

func FuzzScanHeadlines(f *testing.F) {
	f.Add(readFixture(f, "hand-3x.txt"))
	f.Add("Query:\n  Execution:\n     - QueryCumulativeCpuTime: 1s\n    X (plan_node_id=1):\n       - OperatorTotalTime: 5ms\n")
	f.Fuzz(func(t *testing.T, text string) {
		_ = ScanHeadlines(text) // must not panic or loop; agreement is checked on well-formed inputs
	})
}

func BenchmarkScanHeadlines1MB(b *testing.B) {
	text := bigProfile(b, 1<<20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		_ = ScanHeadlines(text)
	}
}

func BenchmarkScanHeadlinesSample3_4_4(b *testing.B) {
	benchSample(b, func(text string) { _ = ScanHeadlines(text) })
}

// FuzzOperatorKey holds operatorKey to what it replaces: strings.Cut(body, ": ") and a
// comparison of the key with every scanKeys name.
func FuzzOperatorKey(f *testing.F) {
	for _, s := range []string{"BytesRead: 1.2 MB", "BytesRead", "BytesRead:1", "BytesReadX: 1", "RowsRead: 3: 4",
		"RawRowsRead: 5", "DataCacheWriteBytes: 0", "OperatorTotalTime: 1ms", "Other: 1", "", "R", "BytesRead: "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		key, val, _ := strings.Cut(body, ": ")
		wantK, wantOK := 0, false
		for k, name := range scanKeys {
			if key == name {
				wantK, wantOK = k, true
			}
		}
		k, v, ok := operatorKey(body)
		if ok != wantOK || ok && (k != wantK || v != val) {
			t.Errorf("operatorKey(%q) = %d, %q, %v; want %d, %q, %v", body, k, v, ok, wantK, val, wantOK)
		}
	})
}
