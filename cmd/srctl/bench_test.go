//go:build unix

package main

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/testdouble/fedouble"
)

// BenchmarkCollectThroughput runs `srctl collect` (the product binary) against three FE doubles
// (in this process) that each finish a given number of queries per second with 40 KB profiles,
// and measures whether the collector keeps up, its CPU (cores = CPU time / wall time) and its
// peak RSS. Levels come from SRCTL_BENCH_QPS (queries/s per FE, comma-separated; default
// "2000,3000,4000,5000"): the first is the target, the others push until it falls behind.
// SRCTL_BENCH_COLLECTOR_ENV adds environment variables to the collector's process only.
// Records go to SRCTL_BENCH_DIR (default /dev/shm when it exists: the collector is measured,
// not the disk). Run: make bench, or
//
//	go test -run '^$' -bench CollectThroughput -benchtime 1x ./cmd/srctl/
func BenchmarkCollectThroughput(b *testing.B) {
	b.Logf("host: %s", testenv.HostCPU())
	levels := benchQPSLevels(b)
	for range b.N {
		for i, qps := range levels {
			res := benchLevel(b, qps, srctlCollect)
			b.Logf("%d FEs x %d queries/s (%d/s total), %d KB profiles, --profile-metrics=%v: %s", benchFEs, qps, benchFEs*qps, benchProfileBytes/1000, benchMetrics(), res)
			if i == 0 {
				b.ReportMetric(res.writtenPerSec, "queries/s")
				b.ReportMetric(res.cpuCores, "cpu-cores")
				b.ReportMetric(res.peakRSSMB, "peak-rss-MB")
				b.ReportMetric(res.feCPUCores, "fe-double-cpu-cores")
				b.ReportMetric(res.cpuMSPer1000, "cpu-ms/1000-records")
				b.ReportMetric(res.allocsPerRecord, "allocs/record")
				b.ReportMetric(res.allocKBPerRecord, "alloc-KB/record")
				b.ReportMetric(res.faultsPerRecord, "minor-faults/record")
			}
			if !res.keptUp {
				b.Logf("falls behind at %d queries/s per FE (%d/s in total)", qps, benchFEs*qps)
				break
			}
		}
	}
}

// benchQPSLevels reads SRCTL_BENCH_QPS: queries/s per FE, comma-separated, the target first
// (default 2000,3000,4000,5000).
func benchQPSLevels(b *testing.B) []int {
	s := os.Getenv("SRCTL_BENCH_QPS")
	if s == "" {
		return []int{2000, 3000, 4000, 5000}
	}
	var levels []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			b.Fatalf("SRCTL_BENCH_QPS: %v", err)
		}
		levels = append(levels, n)
	}
	return levels
}

// benchMetrics is --profile-metrics for the benchmark: SRCTL_BENCH_PROFILE_METRICS=false measures
// the collector without the per-profile metric scan.
func benchMetrics() bool { return os.Getenv("SRCTL_BENCH_PROFILE_METRICS") != "false" }

const (
	benchFEs          = 3
	benchProfileBytes = 40_000
	benchDuration     = 15 * time.Second
)

type benchResult struct {
	ended, written       int
	writtenPerSec        float64
	cpuCores, feCPUCores float64
	peakRSSMB            float64
	maxLagSec, drainSec  float64
	keptUp               bool
	// Per record written: the collector's CPU per 1,000 and its heap allocations.
	cpuMSPer1000, allocsPerRecord float64
	allocKBPerRecord              float64 // heap bytes allocated per record: what drives the GC
	// The kernel's part of that CPU, and the minor page faults per record: on a virtual machine a
	// page of memory new to the process (a fresh tmpfs page, heap the runtime got back from the
	// OS) costs microseconds, so these say how much of the CPU is the kernel's memory work.
	sysShare, faultsPerRecord float64
	// carriedPerRecord is how often a detail was appended to the journal again because its
	// profile fetch outlasted the journal's hold bound (a read and a write each).
	carriedPerRecord float64
}

func (r benchResult) String() string {
	return fmt.Sprintf("ended %d, written %d (%.0f/s), collector CPU %.2f cores (%.0f ms per 1,000 records, %.0f%% in the kernel), %.0f allocations (%.0f KB) and %.1f minor page faults per record, %.2f journal carries per record, peak RSS %.0f MB, max backlog %.1f s of load, drained %.1f s after the load stopped, FE doubles CPU %.2f cores, kept up: %v",
		r.ended, r.written, r.writtenPerSec, r.cpuCores, r.cpuMSPer1000, 100*r.sysShare, r.allocsPerRecord, r.allocKBPerRecord, r.faultsPerRecord, r.carriedPerRecord, r.peakRSSMB, r.maxLagSec, r.drainSec, r.feCPUCores, r.keptUp)
}

// collectorStart makes the command of the collector a level measures: it polls hosts, keeps its
// files under work and serves its metrics on metricsAddr.
type collectorStart func(tb testing.TB, hosts []string, work, metricsAddr string) *exec.Cmd

// srctlCollect is `srctl collect` as the benchmarks run it: the product binary, polling and
// flushing every second in batches of 500, pprof on. SRCTL_BENCH_COLLECTOR_ENV ("GOGC=200
// GOMEMLIMIT=256MiB") reaches the collector only: GOGC in the benchmark's own environment would
// also tune the FE doubles, which hold gigabytes.
func srctlCollect(tb testing.TB, hosts []string, work, metricsAddr string) *exec.Cmd {
	argv := []string{"collect", "--cluster", "bench", "--fe-hosts", strings.Join(hosts, ","),
		"--sink", work + "/lake", "--state-dir", work + "/state", "--poll-interval", "1s", "--flush-interval", "1s",
		"--batch-size", "500", "--metrics-addr", metricsAddr, "--log-level", "warn", "--pprof", "--profile-metrics=" + strconv.FormatBool(benchMetrics())}
	cmd := srctlCommand(tb, argv...) // the product binary, as the image ships it
	cmd.Env = append(os.Environ(), strings.Fields(os.Getenv("SRCTL_BENCH_COLLECTOR_ENV"))...)
	return cmd
}

// benchLevel runs the collector start makes for benchDuration against three FE doubles at qps
// queries/s each, and then until it has written all or 30 s have passed.
func benchLevel(b *testing.B, qps int, start collectorStart) benchResult {
	dir := os.Getenv("SRCTL_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			dir = "/dev/shm"
		}
	}
	work, err := os.MkdirTemp(dir, "srctl-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(work)

	var fes []*fedouble.FE
	var hosts []string
	for range benchFEs {
		// Profiles stay 10 s in the FIFO at this rate (StarRocks keeps 500 by default: 0.25 s at
		// 2000 queries/s, which no poller can meet; operators raise profile_info_reserved_num).
		fe := fedouble.New(fedouble.Config{ProfileReserved: qps * 10})
		srv := httptest.NewServer(fe)
		defer srv.Close()
		fes = append(fes, fe)
		hosts = append(hosts, strings.TrimPrefix(srv.URL, "http://"))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	if os.Getenv("SRCTL_BENCH_PRINT_ADDR") != "" {
		b.Logf("collector metrics and pprof on %s", metricsAddr)
		fmt.Fprintln(os.Stderr, "metrics-addr", metricsAddr)
	}
	cmd := start(b, hosts, work, metricsAddr)
	cmd.Stderr = os.Stderr
	var selfBefore syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &selfBefore)
	started := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), benchDuration)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		w := &fedouble.Workload{FEs: fes, QPS: float64(qps), ProfileBytes: benchProfileBytes, FailRate: 0.01,
			MaxProfileDelay: 200 * time.Millisecond, MaxRuntime: 50 * time.Millisecond, Seed: 1}
		w.Run(ctx)
	})
	endedNow := func() int {
		n := 0
		for _, fe := range fes {
			n += fe.Stats().Ended
		}
		return n
	}
	var res benchResult
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	loadStopped := time.Time{}
	deadline := started.Add(benchDuration + 30*time.Second)
	for time.Now().Before(deadline) {
		<-tick.C
		written := scrapeCounter(metricsAddr, "srctl_collect_records_written_total")
		ended := endedNow()
		// Records wait up to a poll interval, the profile delay, the collector's deliberate
		// second before a first profile attempt, a journal fsync and a flush interval: a backlog
		// of a few seconds of load is the pipeline, not falling behind.
		lag := float64(ended-written) / float64(benchFEs*qps)
		if loadStopped.IsZero() {
			res.maxLagSec = max(res.maxLagSec, lag)
		}
		if ctx.Err() != nil && loadStopped.IsZero() {
			wg.Wait()
			loadStopped = time.Now()
		}
		if !loadStopped.IsZero() && written >= endedNow() {
			res.drainSec = time.Since(loadStopped).Seconds()
			break
		}
	}
	res.ended = endedNow()
	res.written = scrapeCounter(metricsAddr, "srctl_collect_records_written_total")
	mallocs := scrapeCounter(metricsAddr, "go_memstats_mallocs_total")
	carried := scrapeCounter(metricsAddr, "srctl_collect_journal_details_carried_total")
	allocated := scrapeCounter(metricsAddr, "go_memstats_alloc_bytes_total")
	// The peak from /proc, not from the child's rusage: Go starts a child with vfork, and Linux
	// counts the parent's high-water mark (the FE doubles of earlier levels: gigabytes) into the
	// rusage of a child that execs from its memory.
	if peak, err := testenv.ProcessPeakRSS(cmd.Process.Pid); err == nil {
		res.peakRSSMB = float64(peak) / (1 << 20)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	wall := time.Since(started).Seconds()
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	res.cpuCores = cpu.Seconds() / wall
	if cpu > 0 {
		res.sysShare = float64(ru.Stime.Nano()) / float64(cpu.Nanoseconds())
	}
	var self syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	res.feCPUCores = float64(self.Utime.Nano()+self.Stime.Nano()-selfBefore.Utime.Nano()-selfBefore.Stime.Nano()) / 1e9 / wall
	res.writtenPerSec = float64(res.written) / benchDuration.Seconds()
	if res.written > 0 {
		res.cpuMSPer1000 = float64(cpu.Milliseconds()) / float64(res.written) * 1000
		res.allocsPerRecord = float64(mallocs) / float64(res.written)
		res.allocKBPerRecord = float64(allocated) / 1024 / float64(res.written)
		res.faultsPerRecord = float64(ru.Minflt) / float64(res.written)
		res.carriedPerRecord = float64(carried) / float64(res.written)
	}
	res.keptUp = res.written >= res.ended && res.maxLagSec < 6 && res.drainSec < 10 && res.drainSec > 0
	return res
}
