//go:build unix && !shadowonly

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/srctl/srctl/internal/testenv"
)

// BenchmarkCollectFloor puts srctl collect's CPU beside its floor on this machine: the plain
// collector (plainCollectorEnv), which does only a journaled collector's input and output (poll,
// fetch each profile, append it to a journal segment with an fsync every 100 ms, read it back,
// write it to a new sink file, delete the segment), in a process of its own. Both run at the
// first level of SRCTL_BENCH_QPS (2,000 queries/s on each of three FEs, 40 KB profiles) in each of
// SRCTL_BENCH_ROUNDS rounds (3), taking turns, so the machine's drift hits both; the ratio is taken
// within each round. SRCTL_BENCH_COLLECTOR_ENV reaches srctl collect only. Run:
//
//	go test -run '^$' -bench CollectFloor -benchtime 1x ./cmd/srctl/
func BenchmarkCollectFloor(b *testing.B) {
	b.Logf("host: %s", testenv.HostCPU())
	qps := benchQPSLevels(b)[0]
	rounds := benchRounds(3)
	for range b.N {
		var srctlMS, floorMS, ratio, srctlKernel, floorKernel []float64
		for r := range rounds {
			var sr, fl benchResult
			if r%2 == 0 {
				sr, fl = benchLevel(b, qps, srctlCollect), benchLevel(b, qps, plainCollectorProcess)
			} else {
				fl, sr = benchLevel(b, qps, plainCollectorProcess), benchLevel(b, qps, srctlCollect)
			}
			b.Logf("round %d: srctl collect: %s", r+1, sr)
			b.Logf("round %d: plain collector: %s", r+1, fl)
			if !sr.keptUp || !fl.keptUp || fl.cpuMSPer1000 == 0 {
				b.Fatalf("round %d: a collector fell behind at %d queries/s per FE: the comparison needs both to keep up", r+1, qps)
			}
			srctlMS = append(srctlMS, sr.cpuMSPer1000)
			floorMS = append(floorMS, fl.cpuMSPer1000)
			ratio = append(ratio, sr.cpuMSPer1000/fl.cpuMSPer1000)
			srctlKernel = append(srctlKernel, 100*sr.sysShare)
			floorKernel = append(floorKernel, 100*fl.sysShare)
		}
		total := benchFEs * qps
		fmt.Fprintf(os.Stderr, "%d FEs x %d queries/s (%d/s), %d KB profiles, %d rounds taking turns, medians [min-max]:\n", benchFEs, qps, total, benchProfileBytes/1000, rounds)
		fmt.Fprintf(os.Stderr, "  srctl collect    %s ms of CPU per 1,000 records, %s%% in the kernel\n", medianRange(srctlMS, "%.0f"), medianRange(srctlKernel, "%.0f"))
		fmt.Fprintf(os.Stderr, "  plain collector  %s ms of CPU per 1,000 records, %s%% in the kernel\n", medianRange(floorMS, "%.0f"), medianRange(floorKernel, "%.0f"))
		fmt.Fprintf(os.Stderr, "  srctl collect / plain collector: %s\n", medianRange(ratio, "%.2fx"))
		fmt.Fprintf(os.Stderr, "  (plain collector: poll, fetch, journal with an fsync every 100 ms, read back, sink files of 500,\n  segments deleted, not recycled; nothing decoded but the ids, nothing encoded or scanned: the floor of a journaled\n  collector on this machine. One core at %d records/s is %.0f ms per 1,000.)\n", total, 1e6/float64(total))
		b.ReportMetric(median(srctlMS), "srctl-cpu-ms/1000-records")
		b.ReportMetric(median(floorMS), "floor-cpu-ms/1000-records")
		b.ReportMetric(median(ratio), "srctl/floor")
	}
}

// plainCollectorProcess starts the test binary as the plain collector.
func plainCollectorProcess(tb testing.TB, hosts []string, work, metricsAddr string) *exec.Cmd {
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	spec, _ := json.Marshal(plainCollectorSpec{Hosts: hosts, Dir: work, Metrics: metricsAddr})
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), plainCollectorEnv+"="+string(spec))
	return cmd
}
