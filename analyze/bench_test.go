package analyze

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/srctl/srctl/testdouble/trafficgen"
)

// benchData generates (once per machine, cached in the temp directory) mirrored logs of n
// queries over 60 endpoints in 42 hourly files, the shape of the benchmark.
func benchData(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "srctl-bench-diff-"+strconv.Itoa(n))
	done := filepath.Join(dir, ".complete")
	if _, err := os.Stat(done); err == nil {
		return filepath.Join(dir, "shadow-logs")
	}
	os.RemoveAll(dir)
	start := time.Now()
	st, err := trafficgen.Generate(trafficgen.Config{Dir: dir, Queries: n, Endpoints: 60, Hours: 42, Seed: 42, Quirks: true,
		Start: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d rows, %d files, %.0f MB in %v", st.Rows, st.Files, float64(st.Bytes)/1e6, time.Since(start))
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return filepath.Join(dir, "shadow-logs")
}

// BenchmarkDiff measures srctl diff's pipeline end to end (read, decode, classify, pair,
// summarise) on generated logs. Metrics: MB/s of JSONL, rows/s, and the Go heap high-water mark.
// The 1M-query size is the target (>= 1 GB/s, RSS < 300 MB); 100k shows the scaling.
func BenchmarkDiff(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("queries=%d", n), func(b *testing.B) {
			dir := benchData(b, n)
			logs := logsOf(b, dir)
			var rep *Report
			var err error
			var ms runtime.MemStats
			b.ResetTimer()
			for range b.N {
				if rep, err = Diff(context.Background(), logs, nil, Config{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(rep.Summary.Bytes)/1e6/sec, "MB/s")
			b.ReportMetric(float64(rep.Summary.Rows)/sec, "rows/s")
			b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MiB")
			if rep.Summary.Regressions == 0 {
				b.Fatal("the planted regressions were not found")
			}
		})
	}
}
