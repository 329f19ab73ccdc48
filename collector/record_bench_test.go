package collector

import (
	"testing"

	"github.com/srctl/srctl/analyze/profile"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/testdouble/fedouble"
)

// The collector's two per-profile CPU costs, on the profile shape BenchmarkCollectThroughput's FE
// doubles serve (40 KB, two operators per fragment): the headline scan and the record's JSON.

func BenchmarkScanHeadlines40KB(b *testing.B) {
	text := fedouble.GenerateProfile("q-1", "SELECT a FROM t WHERE x = 'y'", "FINISHED", 40000)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		_ = profile.ScanHeadlines(text)
	}
}

func BenchmarkEncodeRecord40KB(b *testing.B) {
	text := fedouble.GenerateProfile("q-1", "SELECT a FROM t WHERE x = 'y'", "FINISHED", 40000)
	rec := &lakehouse.ProfileRecord{QueryID: "q-1", FEHost: "fe", State: "FINISHED", ProfileText: text, ProfileStatus: "ok", SQLText: "SELECT a FROM t WHERE x = 'y'"}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	e := &recordEncoder{}
	for b.Loop() {
		_, _ = e.encode(rec)
	}
}
