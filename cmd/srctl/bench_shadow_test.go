package main

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/internal/testenv"
)

const benchQuery = "SELECT id, name, amount FROM bench_shadow WHERE id = %d /*route='/api/customers/:id'*/"

// pacedLatencies sends rate queries per second on one connection for d and returns each
// query's latency in microseconds (the schedule is kept: a late query does not shift the
// next one, so a slow path cannot hide by slowing the load).
func pacedLatencies(b *testing.B, dsn string, rate int, d time.Duration) []float64 {
	b.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	interval := time.Second / time.Duration(rate)
	n := int(d / interval)
	lat := make([]float64, 0, n)
	start := time.Now()
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		t0 := time.Now()
		var id int
		var name, amount string
		if err := conn.QueryRowContext(context.Background(), fmt.Sprintf(benchQuery, 1+i%1000)).Scan(&id, &name, &amount); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, float64(time.Since(t0).Nanoseconds())/1e3)
	}
	return lat
}

func quantile(sorted []float64, q float64) float64 {
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// maxThroughput runs workers connections as fast as they go for d: queries per second.
func maxThroughput(b *testing.B, dsn string, workers int, d time.Duration) float64 {
	b.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(workers)
	db.SetMaxIdleConns(workers)
	var done atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for w := range workers {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				var id int
				var name, amount string
				if err := db.QueryRow(fmt.Sprintf(benchQuery, 1+(i*workers+w)%1000)).Scan(&id, &name, &amount); err != nil {
					b.Error(err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(done.Load()) / d.Seconds()
}

// procCPU is a process's user + system CPU time.
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64) // fields 14 and 15 of stat, counted after the command name
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
}

// benchShadowProcess starts srctl shadow (the product binary) and waits until it
// listens; it is stopped with SIGTERM when the benchmark ends.
func benchShadowProcess(b *testing.B, primary, shadow, metrics string) (string, *exec.Cmd) {
	b.Helper()
	listen := testenv.FreeAddr(b)
	argv := []string{"shadow", "--listen", listen, "--primary", primary, "--shadow", shadow,
		"--log-sink", b.TempDir(), "--metrics-addr", metrics, "--log-level", "warn"} // the default queue bounds
	if metrics != "" && os.Getenv("SRCTL_BENCH_PRINT_ADDR") != "" {
		// For a CPU profile of the proxy: curl http://ADDR/debug/pprof/profile?seconds=8.
		argv = append(argv, "--pprof")
		fmt.Fprintln(os.Stderr, "metrics-addr", metrics)
	}
	proxy := srctlCommand(b, argv...) // the product binary, as the image ships it
	proxy.Stderr = os.Stderr
	if err := proxy.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { proxy.Process.Signal(syscall.SIGTERM); proxy.Wait() })
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", listen); err == nil {
			c.Close()
			return listen, proxy
		}
		if i > 500 {
			b.Fatal("srctl shadow did not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkShadow measures what srctl shadow costs a client, run as deployed: its own
// process, in front of the local MariaDB, mirroring every SELECT (to a MySQL-protocol test
// double in this process, answering with a row: a second database would take the two cores
// the comparison runs on) and logging every row as JSONL. Reported: the latency added at
// 2,000 queries/s (P50, P99), the throughput kept with 16 connections, the proxy's CPU per
// query, and its memory per idle connection. Direct and proxied runs alternate in blocks so
// the machine's drift hits both. The goals: P99 added < 200 us, throughput >= 80%.
func BenchmarkShadow(b *testing.B) {
	pcfg, err := mysql.ParseDSN(testenv.MySQLDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	shadow, err := mysqlwire.StartFakeRows(1)
	if err != nil {
		b.Fatal(err)
	}
	defer shadow.Close()
	setup, err := sql.Open("mysql", "root@tcp("+pcfg.Addr+")/"+pcfg.DBName)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []string{"CREATE TABLE IF NOT EXISTS bench_shadow (id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(10,2))",
		"INSERT IGNORE INTO bench_shadow SELECT seq, CONCAT('customer ', seq), seq * 1.25 FROM seq_1_to_1000"} {
		if _, err := setup.Exec(s); err != nil {
			b.Fatal(err)
		}
	}
	setup.Close()

	metrics := testenv.FreeAddr(b)
	listen, proxy := benchShadowProcess(b, pcfg.Addr, shadow.Addr(), metrics)

	direct, via := "root@tcp("+pcfg.Addr+")/"+pcfg.DBName, "root@tcp("+listen+")/"+pcfg.DBName
	const rate, blocks = 2000, 4
	block := 5 * time.Second
	var dl, vl []float64
	for range blocks {
		dl = append(dl, pacedLatencies(b, direct, rate, block)...)
		vl = append(vl, pacedLatencies(b, via, rate, block)...)
	}
	slices.Sort(dl)
	slices.Sort(vl)
	p50d, p99d, p50v, p99v := quantile(dl, .5), quantile(dl, .99), quantile(vl, .5), quantile(vl, .99)

	const workers = 16
	var dq, vq float64
	var cpu time.Duration
	for range 2 {
		dq += maxThroughput(b, direct, workers, block)
		c0 := procCPU(b, proxy.Process.Pid)
		vq += maxThroughput(b, via, workers, block)
		cpu += procCPU(b, proxy.Process.Pid) - c0
	}
	cpuPerQuery := float64(cpu.Microseconds()) / (vq * block.Seconds())
	dropped, executed := float64(scrapeCounter(metrics, "srctl_shadow_mirror_dropped_total")), float64(scrapeCounter(metrics, "srctl_shadow_mirror_executed_total"))
	peakRSS, err := testenv.ProcessPeakRSS(proxy.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}

	// Memory per idle connection, on a second proxy whose primary is a test double too (the
	// local MariaDB allows 151 connections).
	fakePrimary, err := mysqlwire.StartFake()
	if err != nil {
		b.Fatal(err)
	}
	defer fakePrimary.Close()
	listen, proxy = benchShadowProcess(b, fakePrimary.Addr(), shadow.Addr(), "")
	const idle = 2000
	rss0 := testenv.ProcessRSS(b, proxy.Process.Pid)
	conns := make([]net.Conn, 0, idle)
	for range idle {
		nc, err := net.Dial("tcp", listen)
		if err == nil {
			_, err = mysqlwire.Connect(nc, mysqlwire.ClientConfig{User: "root"})
		}
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, nc)
	}
	time.Sleep(500 * time.Millisecond)
	perConn := float64(testenv.ProcessRSS(b, proxy.Process.Pid)-rss0) / idle
	for _, c := range conns {
		c.Close()
	}

	b.ReportMetric(p50v-p50d, "p50-added-us")
	b.ReportMetric(p99v-p99d, "p99-added-us")
	b.ReportMetric(vq/dq, "throughput-ratio")
	b.ReportMetric(cpuPerQuery, "proxy-cpu-us/query")
	b.ReportMetric(perConn/1024, "KiB/idle-conn")
	b.ReportMetric(dropped, "copies-dropped")
	b.ReportMetric(float64(peakRSS)/(1<<20), "peak-RSS-MiB")
	fmt.Fprintf(os.Stderr, `
srctl shadow (own process) on loopback, primary = local MariaDB, every SELECT mirrored (shadow: test double), JSONL logs
  latency at %d queries/s, %d x %s per side, alternated (%d queries each):
    direct   P50 %6.0f us   P99 %6.0f us
    proxy    P50 %6.0f us   P99 %6.0f us
    added    P50 %6.0f us   P99 %6.0f us   (goal: P99 added < 200 us)
  throughput, %d connections, 2 x %s per side: direct %.0f q/s, proxy %.0f q/s = %.0f%% (goal >= 80%%)
    the proxy used %.1f us of CPU per query (relay, mirror, logs): one core relays ~%.0f q/s
  copies: %.0f executed on the shadow, %.0f dropped (default queue bounds; goal 0); peak RSS %.0f MiB
  memory: %.1f KiB RSS per idle connection (%d connections)
`, rate, blocks, block, len(dl), p50d, p99d, p50v, p99v, p50v-p50d, p99v-p99d,
		workers, block, dq/2, vq/2, 100*vq/dq, cpuPerQuery, 1e6/cpuPerQuery, executed, dropped, float64(peakRSS)/(1<<20), perConn/1024, idle)
}
