//go:build !shadowonly

package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
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

// procSyscalls is the read and write system calls process pid has made (syscr + syscw of
// /proc/PID/io: read, recvfrom, write, sendmsg and their kin, not epoll or futex). On a virtual
// machine each costs microseconds of kernel time, most of a relaying proxy's CPU: a mirrored
// query needs at least three reads and three writes (client, primary, shadow), a relayed one two
// of each, so this count says how close to that floor the proxy is.
func procSyscalls(b *testing.B, pid int) int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok && (k == "syscr" || k == "syscw") {
			c, _ := strconv.ParseInt(v, 10, 64)
			n += c
		}
	}
	return n
}

// benchShadowProcess starts srctl shadow (bin: a product binary, split or shadow-only build) and
// waits until it listens; it is stopped with SIGTERM when the benchmark ends.
// SRCTL_BENCH_SHADOW_ARGS adds flags and SRCTL_BENCH_SHADOW_ENV environment variables (e.g.
// GOMAXPROCS=1) to the proxy only.
func benchShadowProcess(b *testing.B, bin, primary, shadow, metrics string, extra ...string) (string, *exec.Cmd) {
	b.Helper()
	listen := testenv.FreeAddr(b)
	argv := []string{"shadow", "--listen", listen, "--primary", primary, "--shadow", shadow,
		"--log-sink", b.TempDir(), "--metrics-addr", metrics, "--log-level", "warn"} // the default queue bounds
	if metrics != "" {
		if os.Getenv("SRCTL_BENCH_PRINT_ADDR") != "" {
			// For a CPU profile of the proxy: curl http://ADDR/debug/pprof/profile?seconds=8.
			argv = append(argv, "--pprof")
			fmt.Fprintln(os.Stderr, "metrics-addr", metrics, "argv", strings.Join(extra, " "))
		}
	}
	argv = append(argv, extra...)
	argv = append(argv, strings.Fields(os.Getenv("SRCTL_BENCH_SHADOW_ARGS"))...)
	proxy := exec.Command(bin, argv...) // a product binary, as the image ships it
	startBenchProxy(b, proxy, listen)
	return listen, proxy
}

// startBenchProxy starts a proxy process of the benchmark with SRCTL_BENCH_SHADOW_ENV added to its
// environment, stops it with SIGTERM when the benchmark ends, and waits until it listens.
func startBenchProxy(b *testing.B, cmd *exec.Cmd, listen string) {
	b.Helper()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, strings.Fields(os.Getenv("SRCTL_BENCH_SHADOW_ENV"))...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	waitListening(b, listen)
}

// plainRelay serves plainRelayEnv: every connection to listen is joined to a new one to target,
// every byte read into the process and written out again, as any proxy that looks at them must.
// (A bare io.Copy between two TCP connections splices on Linux: the bytes never reach the
// process, half the system calls. That is the floor of a proxy that never reads what it
// relays, not of one that parses it.)
func plainRelay(spec string) int {
	listen, target, ok := strings.Cut(spec, ",")
	if !ok {
		fmt.Fprintln(os.Stderr, plainRelayEnv, "wants LISTEN,TARGET")
		return 2
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { copyThrough(s, c); s.Close() }()
				copyThrough(c, s)
			}()
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	<-ctx.Done()
	stop()
	return 0
}

// copyThrough copies src to dst through a buffer of the process: hidden behind plain Reader and
// Writer types, the connections offer io.Copy no ReadFrom or WriteTo to splice with.
func copyThrough(dst io.Writer, src io.Reader) {
	io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, make([]byte, 32<<10))
}

// benchPlainRelay starts plainRelay in a process of its own, in front of target.
func benchPlainRelay(b *testing.B, target string) (string, *exec.Cmd) {
	b.Helper()
	listen := testenv.FreeAddr(b)
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	relay := exec.Command(self)
	relay.Env = append(os.Environ(), plainRelayEnv+"="+listen+","+target)
	startBenchProxy(b, relay, listen)
	return listen, relay
}

// benchSide is one way to reach the primary: directly or through a proxy process.
type benchSide struct {
	name    string
	dsn     string
	pid     int    // the proxy's; 0 when direct
	metrics string // the proxy's metrics address; "" for the plain relay

	p50, p99   []float64 // per round
	qps        []float64 // per round, 16 connections
	cpuPerQ    []float64 // the proxy's CPU per query in the throughput blocks, microseconds
	allocsPerQ []float64 // the proxy's heap allocations per query in the same blocks
	syscallsQ  []float64 // the proxy's read and write system calls per query in the same blocks
	added50    []float64 // per round, against direct's same round
	added99    []float64
	throughput []float64 // per round, share of direct's q/s
}

// median is the middle value of xs (the upper one of an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// medianRange formats the median of xs with its min and max.
func medianRange(xs []float64, format string) string {
	if len(xs) == 0 {
		return "n/a"
	}
	f := func(v float64) string { return fmt.Sprintf(format, v) }
	return fmt.Sprintf("%s [%s-%s]", f(median(xs)), f(slices.Min(xs)), f(slices.Max(xs)))
}

// BenchmarkShadow measures what srctl shadow costs a client, run as deployed: its own
// process (the product binary), in front of the local MariaDB, logging every row as JSONL.
// Three proxies: one mirroring every SELECT (to a MySQL-protocol test double in this process,
// answering with a row: a second database would take the two cores the comparison runs on),
// the same in the shadow-only build (-tags shadowonly: same code, less linked), and one relaying
// only (SELECTs excluded by policy: logged, not mirrored); and a plain relay, the floor. In each
// of SRCTL_BENCH_ROUNDS rounds (5) the sides take turns, so the machine's drift hits all:
// the latency added at 2,000 queries/s on one connection (P50, P99), the throughput kept with 16
// connections, the proxy's CPU per query. Reported as medians over rounds with [min-max], each
// round's figure taken against direct's in the same round. Then each proxy's peak RSS, the
// copies dropped, and memory per idle connection. The goals: added P50 < 40 us and
// P99 < 150 us, <= 55 us of CPU per mirrored query, relay-only >= 55% of direct's q/s, 0 copies
// dropped, peak RSS <= 100 MiB. SRCTL_BENCH_SRCTL=PATH (and SRCTL_BENCH_SRCTL_SHADOW=PATH for
// the shadow-only build) measures another commit's binary.
func BenchmarkShadow(b *testing.B) {
	b.Logf("host: %s", testenv.HostCPU())
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
	full, slim := productBinary(b), shadowOnlyBinary(b) // full: every command (the split build, as installed)
	mirroredAddr, mirrored := benchShadowProcess(b, full, pcfg.Addr, shadow.Addr(), metrics)
	slimMetrics := testenv.FreeAddr(b)
	slimAddr, slimProxy := benchShadowProcess(b, slim, pcfg.Addr, shadow.Addr(), slimMetrics)
	relayMetrics := testenv.FreeAddr(b)
	relayAddr, relay := benchShadowProcess(b, full, pcfg.Addr, shadow.Addr(), relayMetrics, "--exclude-types", "select")
	plainAddr, plain := benchPlainRelay(b, pcfg.Addr)
	dsn := func(addr string) string { return "root@tcp(" + addr + ")/" + pcfg.DBName }
	sides := []*benchSide{
		{name: "direct", dsn: dsn(pcfg.Addr)},
		{name: "mirrored", dsn: dsn(mirroredAddr), pid: mirrored.Process.Pid, metrics: metrics},
		{name: "shadow-only", dsn: dsn(slimAddr), pid: slimProxy.Process.Pid, metrics: slimMetrics},
		{name: "relay-only", dsn: dsn(relayAddr), pid: relay.Process.Pid, metrics: relayMetrics},
		{name: "plain relay", dsn: dsn(plainAddr), pid: plain.Process.Pid},
	}
	rounds := benchRounds(5)
	const rate, workers = 2000, 16
	block := 4 * time.Second
	for round := range rounds {
		for i := range sides {
			sd := sides[(i+round)%len(sides)] // a different side goes first each round
			lat := pacedLatencies(b, sd.dsn, rate, block)
			slices.Sort(lat)
			sd.p50, sd.p99 = append(sd.p50, quantile(lat, .5)), append(sd.p99, quantile(lat, .99))
		}
		for i := range sides {
			sd := sides[(i+round)%len(sides)]
			var c0 time.Duration
			var m0, s0 int64
			if sd.pid != 0 {
				c0, s0 = procCPU(b, sd.pid), procSyscalls(b, sd.pid)
			}
			if sd.metrics != "" {
				m0 = int64(scrapeCounter(sd.metrics, "go_memstats_mallocs_total"))
			}
			q := maxThroughput(b, sd.dsn, workers, block)
			sd.qps = append(sd.qps, q)
			if sd.pid != 0 {
				sd.cpuPerQ = append(sd.cpuPerQ, float64((procCPU(b, sd.pid)-c0).Microseconds())/(q*block.Seconds()))
				sd.syscallsQ = append(sd.syscallsQ, float64(procSyscalls(b, sd.pid)-s0)/(q*block.Seconds()))
			}
			if sd.metrics != "" {
				sd.allocsPerQ = append(sd.allocsPerQ, float64(int64(scrapeCounter(sd.metrics, "go_memstats_mallocs_total"))-m0)/(q*block.Seconds()))
			}
		}
		for _, sd := range sides[1:] {
			sd.added50 = append(sd.added50, sd.p50[round]-sides[0].p50[round])
			sd.added99 = append(sd.added99, sd.p99[round]-sides[0].p99[round])
			sd.throughput = append(sd.throughput, 100*sd.qps[round]/sides[0].qps[round])
		}
	}
	var dropped, executed float64
	for _, m := range []string{metrics, slimMetrics} {
		dropped += float64(scrapeCounter(m, "srctl_shadow_mirror_dropped_total"))
		executed += float64(scrapeCounter(m, "srctl_shadow_mirror_executed_total"))
	}
	peakRSS, err := testenv.ProcessPeakRSS(mirrored.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	relayRSS, err := testenv.ProcessPeakRSS(relay.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	slimRSS, err := testenv.ProcessPeakRSS(slimProxy.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}

	// Memory per idle connection, on a third proxy whose primary is a test double too (the
	// local MariaDB allows 151 connections).
	fakePrimary, err := mysqlwire.StartFake()
	if err != nil {
		b.Fatal(err)
	}
	defer fakePrimary.Close()
	listen, proxy := benchShadowProcess(b, full, fakePrimary.Addr(), shadow.Addr(), "")
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

	mir, rel := sides[1], sides[3]
	b.ReportMetric(median(mir.added50), "p50-added-us")
	b.ReportMetric(median(mir.added99), "p99-added-us")
	b.ReportMetric(median(mir.throughput)/100, "throughput-ratio")
	b.ReportMetric(median(rel.throughput)/100, "relay-only-throughput-ratio")
	b.ReportMetric(median(mir.cpuPerQ), "proxy-cpu-us/query")
	b.ReportMetric(median(mir.allocsPerQ), "proxy-allocs/query")
	b.ReportMetric(perConn/1024, "KiB/idle-conn")
	b.ReportMetric(dropped, "copies-dropped")
	b.ReportMetric(float64(peakRSS)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(slimRSS)/(1<<20), "shadow-only-peak-RSS-MiB")
	fmt.Fprintf(os.Stderr, "\nsrctl shadow (own process) on loopback, primary = local MariaDB, shadow = test double, JSONL logs; %d rounds, medians [min-max]\n", rounds)
	fmt.Fprintf(os.Stderr, "  latency at %d q/s on 1 connection (added: against direct in the same round); throughput with %d connections\n", rate, workers)
	for _, sd := range sides {
		p50, p99 := medianRange(sd.p50, "%.0f"), medianRange(sd.p99, "%.0f")
		if sd.pid != 0 {
			p50 += " (+" + medianRange(sd.added50, "%.0f") + ")"
			p99 += " (+" + medianRange(sd.added99, "%.0f") + ")"
		}
		fmt.Fprintf(os.Stderr, "  %-11s  P50 %s us  P99 %s us\n", sd.name, p50, p99)
		fmt.Fprintf(os.Stderr, "  %-11s  %s q/s", "", medianRange(sd.qps, "%.0f"))
		if sd.pid != 0 {
			fmt.Fprintf(os.Stderr, " = %s%% of direct, proxy CPU %s us/query, %s syscalls/query", medianRange(sd.throughput, "%.0f"), medianRange(sd.cpuPerQ, "%.1f"), medianRange(sd.syscallsQ, "%.1f"))
		}
		if sd.metrics != "" {
			fmt.Fprintf(os.Stderr, ", %s allocations/query", medianRange(sd.allocsPerQ, "%.1f"))
		}
		fmt.Fprintln(os.Stderr)
	}
	fmt.Fprintf(os.Stderr, "  (plain relay: every byte copied through a Go process of its own, nothing parsed or logged: the floor of\n  any proxy that reads what it relays, on this machine; syscalls: reads and writes, EAGAIN included)\n")
	fmt.Fprintf(os.Stderr, `  goals: added P50 < 40 us, P99 < 150 us; <= 55 us CPU per mirrored query; relay-only >= 55%% of direct
  copies: %.0f executed on the shadow, %.0f dropped (default queue bounds; goal 0)
  peak RSS: mirroring proxy %.0f MiB, the same in the shadow-only build %.0f MiB, relay-only proxy %.0f MiB (goal <= 100 MiB)
  memory: %.1f KiB RSS per idle connection (%d connections)
`, executed, dropped, float64(peakRSS)/(1<<20), float64(slimRSS)/(1<<20), float64(relayRSS)/(1<<20), perConn/1024, idle)
}

// benchRounds is SRCTL_BENCH_ROUNDS, the rounds in which a benchmark's sides take turns, or def.
func benchRounds(def int) int {
	if n, err := strconv.Atoi(os.Getenv("SRCTL_BENCH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return def
}
