package profile

import (
	"reflect"
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
