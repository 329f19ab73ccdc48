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

	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/testdouble/trafficgen"
)

// benchData generates (once per machine, cached in the temp directory) mirrored logs of n
// queries over 60 endpoints in 42 hourly files, the shape of the benchmark.
func benchData(b *testing.B, n int) string {
	return benchDataFix(b, n, "srctl-bench-diff-", time.Time{}, trafficgen.ShapeClassic)
}

// benchDataFix is benchData under its own name, with a planted fix at fixAt when it is set, in
// the given shape (the real shape has 300 endpoints, as make bench-reference's data).
func benchDataFix(b *testing.B, n int, prefix string, fixAt time.Time, shape string) string {
	b.Helper()
	endpoints := 60
	if shape == trafficgen.ShapeReal {
		prefix += "real-"
		endpoints = 300
	}
	dir := filepath.Join(os.TempDir(), prefix+strconv.Itoa(n))
	done := filepath.Join(dir, ".complete")
	if _, err := os.Stat(done); err == nil {
		return filepath.Join(dir, "shadow-logs")
	}
	os.RemoveAll(dir)
	start := time.Now()
	st, err := trafficgen.Generate(trafficgen.Config{Dir: dir, Queries: n, Endpoints: endpoints, Hours: 42, Seed: 42, Quirks: true,
		Start: benchStart, FixAt: fixAt, Shape: shape})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d rows, %d files, %.0f MB in %v", st.Rows, st.Files, float64(st.Bytes)/1e6, time.Since(start))
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return filepath.Join(dir, "shadow-logs")
}

var benchStart = time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)

// BenchmarkValidateVsDiff is the target: srctl validate over two windows of 1M
// mirrored queries each (one stream of 2M split at its middle, a fix planted there) against
// srctl diff over the same 2M, alternated in one run; the ratio is of the best of three each.
// Both shapes of the generated logs: classic (short point queries, 60 endpoints) and real
// (analytic SQL with escaped characters, 300 endpoints, commands without text).
func BenchmarkValidateVsDiff(b *testing.B) {
	for _, shape := range []string{trafficgen.ShapeClassic, trafficgen.ShapeReal} {
		b.Run("shape="+shape, func(b *testing.B) { validateVsDiff(b, shape) })
	}
}

func validateVsDiff(b *testing.B, shape string) {
	b.Logf("host: %s", testenv.HostCPU()) // a parent benchmark's log is not printed
	const n = 2_000_000
	fixAt := benchStart.Add(21 * time.Hour)
	logs := logsOf(b, benchDataFix(b, n, "srctl-bench-validate-", fixAt, shape))
	var best [2]time.Duration
	var vrep *ValidateReport
	var pairs int64
	for range 3 {
		for i := range 2 {
			start := time.Now()
			if i == 0 {
				rep, err := Diff(context.Background(), logs, nil, Config{})
				if err != nil {
					b.Fatalf("diff: %v", err)
				}
				pairs = rep.Summary.Pairs
			} else {
				var err error
				vrep, err = Validate(context.Background(), ValidateInputs{Logs: logs},
					ValidateConfig{Before: lakehouse.Window{Until: fixAt}, After: lakehouse.Window{Since: fixAt}})
				if err != nil {
					b.Fatal(err)
				}
			}
			if d := time.Since(start); best[i] == 0 || d < best[i] {
				best[i] = d
			}
		}
	}
	// The bounds leave room for the real shape's commands without text (about 3% of rows).
	if pairs < n*85/100 || vrep.Headline.Improved.Endpoints == 0 || vrep.Before.Executions < n*85/100 || vrep.After.Executions < n*85/100 {
		b.Fatalf("diff %d pairs; validate: headline %+v, %d executions before, %d after", pairs, vrep.Headline, vrep.Before.Executions, vrep.After.Executions)
	}
	ratio := best[1].Seconds() / best[0].Seconds()
	b.ReportMetric(best[0].Seconds(), "diff-s")
	b.ReportMetric(best[1].Seconds(), "validate-s")
	b.ReportMetric(ratio, "validate/diff")
	if ratio > 1.2 {
		b.Errorf("validate took %.2fx diff's time over the same logs, target <= 1.2x", ratio)
	}
}

// BenchmarkDiff measures srctl diff's pipeline end to end (read, decode, classify, pair,
// summarise) on generated logs. Metrics: MB/s of JSONL, rows/s, and the Go heap high-water mark.
// The 1M-query size is the target (>= 1 GB/s, RSS < 300 MB); 100k shows the scaling.
func BenchmarkDiff(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("queries=%d", n), func(b *testing.B) {
			b.Logf("host: %s", testenv.HostCPU()) // a parent benchmark's log is not printed
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
