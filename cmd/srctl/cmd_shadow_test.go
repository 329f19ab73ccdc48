//go:build !shadowonly

package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/analyze"
	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/internal/testenv"
)

const itDB = "srctl_shadow_it"

// plantedClusters sets up the same schema and data on the primary (the local MariaDB) and a
// second mariadbd, with three planted differences on the shadow: the index of
// orders.customer_id is missing, the function discount() is missing, and customer 7 has
// another name.
func plantedClusters(t *testing.T) (primary, shadow string) {
	t.Helper()
	pcfg, err := mysql.ParseDSN(testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	sh := testenv.StartMariaDB(t)
	setup := func(addr string, isPrimary bool) {
		db, err := sql.Open("mysql", "root@tcp("+addr+")/?multiStatements=true")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		stmts := []string{
			"DROP DATABASE IF EXISTS " + itDB, "CREATE DATABASE " + itDB, "USE " + itDB,
			"CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)",
			"INSERT INTO customers SELECT seq, CONCAT('customer ', seq) FROM seq_1_to_50",
			"CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2) NOT NULL)",
			"INSERT INTO orders SELECT seq, seq % 1000, seq * 1.5 FROM seq_1_to_200000",
		}
		if isPrimary {
			stmts = append(stmts, "CREATE INDEX idx_customer ON orders (customer_id)",
				"CREATE FUNCTION discount(x DECIMAL(10,2)) RETURNS DECIMAL(10,2) DETERMINISTIC RETURN x * 0.9")
		} else {
			stmts = append(stmts, "UPDATE customers SET name = 'renamed on the shadow' WHERE id = 7")
		}
		for _, s := range stmts {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s on %s: %v", s, addr, err)
			}
		}
	}
	setup(pcfg.Addr, true)
	setup(sh.Addr, false)
	t.Cleanup(func() {
		if db, err := sql.Open("mysql", "root@tcp("+pcfg.Addr+")/"); err == nil {
			db.Exec("DROP DATABASE IF EXISTS " + itDB)
			db.Close()
		}
	})
	return pcfg.Addr, sh.Addr
}

// startShadowCmd runs `srctl shadow` in-process until stop is called; stop returns its exit
// code and stderr.
func startShadowCmd(t *testing.T, args ...string) (listen string, stop func() (int, string)) {
	t.Helper()
	listen = testenv.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"shadow", "--listen", listen}, args...), &bytes.Buffer{}, &errb)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", listen); err == nil {
			c.Close()
			break
		}
		select {
		case code := <-done:
			t.Fatalf("srctl shadow exited with %d: %s", code, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("srctl shadow did not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var stopped bool
	var code int
	stop = func() (int, string) {
		if !stopped {
			cancel()
			code, stopped = <-done, true
		}
		return code, errb.String()
	}
	t.Cleanup(func() { stop() })
	return listen, stop
}

// TestShadowEndToEnd is the acceptance test: real traffic (the mariadb command-line
// client, go-sql-driver/mysql text and prepared statements, a multi-statement query) through
// srctl shadow between two MariaDB servers with planted differences, then srctl diff on the
// proxy's logs must report exactly one latency regression, one shadow-only error endpoint with
// its error code and one result-difference endpoint.
func TestShadowEndToEnd(t *testing.T) {
	cli, err := exec.LookPath("mariadb")
	if err != nil {
		testenv.SkipOrFail(t, "the mariadb command-line client is not installed (apt-get install mariadb-client)")
	}
	primary, shadow := plantedClusters(t)
	logs := filepath.Join(t.TempDir(), "shadow-logs")
	listen, stop := startShadowCmd(t, "--primary", primary, "--shadow", shadow, "--shadow-user", "root",
		"--log-sink", logs, "--log-flush-interval", "200ms", "--metrics-addr", "",
		"--queue-size", "4096") // the test sends in a closed loop, far faster than the index-less shadow answers
	host, port, _ := net.SplitHostPort(listen)

	// The mariadb client: text protocol, its own handshake and capability flags.
	for i := range 3 {
		out, err := exec.Command(cli, "--comments", "-h", host, "-P", port, "-uroot", itDB, "-e",
			fmt.Sprintf("SELECT COUNT(*) FROM customers WHERE id > %d /*route='/cli/count'*/", i)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "COUNT(*)") {
			t.Fatalf("mariadb through the proxy: %v\n%s", err, out)
		}
	}
	db, err := sql.Open("mysql", "root@tcp("+listen+")/"+itDB+"?multiStatements=true")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxIdleConns(4)
	drain := func(rows *sql.Rows, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for {
			for rows.Next() {
			}
			if !rows.NextResultSet() {
				break
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	for i := range 40 {
		// Text protocol; the shadow lacks the index: a latency regression.
		drain(db.Query(fmt.Sprintf("SELECT id, total FROM orders WHERE customer_id = %d /*route='/orders/by-customer'*/", 100+i)))
		// Prepared; the shadow lacks the function: a shadow-only error (1305).
		var d string
		if err := db.QueryRow("SELECT discount(total) FROM orders WHERE id = ? /*route='/orders/discount'*/", i+1).Scan(&d); err != nil {
			t.Fatal(err)
		}
		// Prepared; the same on both sides (customer 7 is avoided).
		var name string
		if err := db.QueryRow("SELECT name FROM customers WHERE id = ? /*route='/customers/get'*/", 10+i%30).Scan(&name); err != nil {
			t.Fatal(err)
		}
		// Text; customer 7 differs: a result difference.
		drain(db.Query("SELECT id, name FROM customers ORDER BY id /*route='/customers/list'*/"))
		// Multi-statement text query: the same on both sides.
		drain(db.Query(fmt.Sprintf("SELECT COUNT(*) FROM customers; SELECT name FROM customers WHERE id = %d /*route='/stats'*/", 20+i%10)))
	}
	db.Close()
	if code, errs := stop(); code != 0 {
		t.Fatalf("srctl shadow exited with %d: %s", code, errs)
	}

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"diff", "--format", "json", "--min-delta", "1ms", logs}, &out, &errb)
	if code != 0 {
		t.Fatalf("srctl diff exited with %d: %s", code, errb.String())
	}
	var rep analyze.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("diff JSON: %v\n%s", err, out.String())
	}
	var regressions, resultDiffs []string
	for _, e := range rep.Endpoints {
		if e.Verdict == analyze.VerdictRegression || e.Verdict == analyze.VerdictImprovement {
			regressions = append(regressions, e.Verdict+" "+e.Endpoint)
		}
		if e.ResultMismatches > 0 {
			resultDiffs = append(resultDiffs, e.Endpoint+" x"+strconv.FormatInt(e.ResultMismatches, 10))
		}
		if e.SizeDivergence.Suspected {
			t.Errorf("endpoint %s suspected from response sizes, though the logs have result hashes", e.Endpoint)
		}
	}
	var failures []string
	for _, f := range rep.Failures {
		failures = append(failures, fmt.Sprintf("%s %s %d x%d", f.Endpoint, f.Kind, f.ErrorCode, f.Count))
	}
	want := func(what string, got []string, exp string) {
		t.Helper()
		if len(got) != 1 || got[0] != exp {
			t.Errorf("%s: got %q, want exactly [%q]", what, got, exp)
		}
	}
	want("verdicts", regressions, "regression /orders/by-customer")
	want("failures", failures, "/orders/discount shadow_only 1305 x40")
	want("result differences", resultDiffs, "/customers/list x40")
	s := rep.Summary
	if s.PrimaryOnlyFailures != 0 || s.BothFailures != 0 || s.Dropped != 0 || s.ShadowMissing != 0 || s.UnpairedShadow != 0 {
		t.Errorf("unexpected counts: primary-only %d, both %d, dropped %d, shadow missing %d, unpaired shadow %d",
			s.PrimaryOnlyFailures, s.BothFailures, s.Dropped, s.ShadowMissing, s.UnpairedShadow)
	}
	if t.Failed() {
		var table bytes.Buffer
		run(context.Background(), []string{"diff", "--min-delta", "1ms", logs}, &table, &table)
		t.Log(table.String())
	}
}

// TestShadowTenThousandIdleConnections holds 10,000 idle client sessions open through a real
// srctl shadow process (clients here, the primary a test double in a third process: each side
// needs a descriptor per session), then checks its memory per connection, that it still
// serves, that every session and goroutine ends when the clients leave, and that SIGTERM
// stops it cleanly.
func TestShadowTenThousandIdleConnections(t *testing.T) {
	n := 10000
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	if want := uint64(2*n + 50); lim.Max < want { // the proxy needs two per session, and a few
		n = int(lim.Max-50) / 2
		t.Logf("open-files hard limit %d (the proxy needs two per session): %d sessions", lim.Max, n)
	}
	lim.Cur = lim.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) // children inherit it

	fake := exec.Command(os.Args[0], "-test.run=^$")
	fake.Env = append(os.Environ(), fakeMySQLEnv+"=1")
	stdout, _ := fake.StdoutPipe()
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Process.Signal(syscall.SIGTERM); fake.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	primary := strings.TrimSpace(line)

	listen, metrics := testenv.FreeAddr(t), testenv.FreeAddr(t)
	argv, _ := json.Marshal([]string{"shadow", "--listen", listen, "--primary", primary, "--shadow", testenv.FreeAddr(t),
		"--log-sink", t.TempDir(), "--metrics-addr", metrics, "--log-level", "warn", "--drain-timeout", "20s"})
	proxy := exec.Command(os.Args[0], "-test.run=^$")
	proxy.Env = append(os.Environ(), childEnv+"="+string(argv))
	exited, perr := startProcess(t, proxy)
	if err := waitListeningOrExit(listen, exited); err != nil {
		t.Fatalf("srctl shadow: %v\n%s", err, perr)
	}
	waitListening(t, metrics)
	goroutines0 := scrapeCounter(metrics, "go_goroutines")
	rss0 := testenv.ProcessRSS(t, proxy.Process.Pid)

	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for len(conns) < n {
		nc, err := net.DialTimeout("tcp", listen, 10*time.Second)
		if err == nil {
			_, err = mysqlwire.Connect(nc, mysqlwire.ClientConfig{User: "root"})
		}
		if err != nil {
			t.Fatalf("session %d: %v\n%s", len(conns)+1, err, perr.String())
		}
		conns = append(conns, nc)
	}
	rss1 := testenv.ProcessRSS(t, proxy.Process.Pid)
	if got := scrapeCounter(metrics, "srctl_shadow_connections_active"); got != n {
		t.Fatalf("%d sessions active, want %d", got, n)
	}
	goroutines1 := scrapeCounter(metrics, "go_goroutines")
	perConn := float64(rss1-rss0) / float64(n)
	t.Logf("%d idle sessions: proxy RSS %d -> %d MiB, %.1f KiB per session; goroutines %d -> %d",
		n, rss0>>20, rss1>>20, perConn/1024, goroutines0, goroutines1)
	if perConn > 64<<10 && !raceEnabled {
		t.Errorf("%.1f KiB of RSS per idle session: want at most 64", perConn/1024)
	}
	if per := float64(goroutines1-goroutines0) / float64(n); per > 1.05 {
		t.Errorf("%.2f goroutines per idle session: want one", per)
	}

	for _, c := range conns {
		c.Close()
	}
	conns = nil
	deadline := time.Now().Add(60 * time.Second)
	for scrapeCounter(metrics, "srctl_shadow_connections_active") > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := scrapeCounter(metrics, "srctl_shadow_connections_active"); got != 0 {
		t.Fatalf("%d sessions still active after their clients left", got)
	}
	for scrapeCounter(metrics, "go_goroutines") > goroutines0+5 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if g := scrapeCounter(metrics, "go_goroutines"); g > goroutines0+5 {
		t.Errorf("goroutines: %d, were %d before the sessions: a leak", g, goroutines0)
	}
	if err := stopProcess(proxy, exited, 30*time.Second); err != nil {
		t.Fatalf("srctl shadow after SIGTERM: %v\n%s", err, perr)
	}
}

// startShadowProcess runs srctl shadow as a child process (the test binary acting as srctl).
func startShadowProcess(t *testing.T, args ...string) (cmd *exec.Cmd, exited chan error, stderr *testenv.SyncBuffer) {
	t.Helper()
	argv, _ := json.Marshal(append([]string{"shadow", "--log-level", "warn"}, args...))
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(argv))
	exited, stderr = startProcess(t, cmd)
	return cmd, exited, stderr
}

// TestShadowRestartWithoutRefusals restarts srctl shadow ten times with SIGUSR2 (each process
// hands its listening socket to its successor, then drains) while a client connects in a loop
// and, during the first restart, a slow query runs on the old process: the query finishes,
// every old process exits 0, and no connection attempt fails.
func TestShadowRestartWithoutRefusals(t *testing.T) {
	paddr, db := "", ""
	if cfg, err := mysql.ParseDSN(testenv.MySQLDSN(t)); err == nil {
		paddr, db = cfg.Addr, cfg.DBName
	}
	// Successors write to the same stderr: a file, not a pipe, so that waiting for one process
	// does not wait for the successors holding the pipe.
	logf, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	t.Cleanup(func() {
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	var listen string
	var firstExited chan error
	for attempt := 1; ; attempt++ {
		listen = testenv.FreeAddr(t)
		argv, _ := json.Marshal([]string{"shadow", "--log-level", "warn", "--listen", listen, "--primary", paddr, "--shadow", paddr,
			"--metrics-addr", testenv.FreeAddr(t), "--drain-timeout", "20s", "--log-sink", t.TempDir()})
		first := exec.Command(os.Args[0], "-test.run=^$")
		first.Env = append(os.Environ(), childEnv+"="+string(argv))
		first.Stderr = logf
		if err := first.Start(); err != nil {
			t.Fatal(err)
		}
		pids = []int{first.Process.Pid}
		firstExited = make(chan error, 1)
		go func() { firstExited <- first.Wait() }()
		err := waitListeningOrExit(listen, firstExited)
		if err == nil {
			break
		}
		out, _ := os.ReadFile(logf.Name())
		// A port FreeAddr found free can be taken before the process binds it (by any outgoing
		// connection on the machine: they draw from the same range): start again on others.
		if attempt < 3 && strings.Contains(string(out), "address already in use") {
			t.Logf("a port was taken before srctl shadow bound it; again on others: %s", out)
			logf.Truncate(0)
			logf.Seek(0, io.SeekStart) // the children share this file's offset
			continue
		}
		t.Fatalf("srctl shadow did not start: %v\n%s", err, out)
	}

	stopLoop := make(chan struct{})
	loopDone := make(chan [2]int)
	go func() {
		var ok, failed int
		for {
			select {
			case <-stopLoop:
				loopDone <- [2]int{ok, failed}
				return
			default:
			}
			c, err := sql.Open("mysql", "root@tcp("+listen+")/"+db)
			if err == nil {
				err = c.Ping()
				c.Close()
			}
			if err != nil {
				failed++
				t.Logf("connection failed during the restarts: %v", err)
			} else {
				ok++
			}
		}
	}()
	slow := make(chan error, 1)
	go func() {
		c, err := sql.Open("mysql", "root@tcp("+listen+")/"+db)
		if err != nil {
			slow <- err
			return
		}
		defer c.Close()
		var v int
		slow <- c.QueryRow("SELECT SLEEP(2)").Scan(&v)
	}()
	time.Sleep(200 * time.Millisecond) // the slow query is running on the first process
	successor := regexp.MustCompile(`successor_pid=(\d+)`)
	for restart := 1; restart <= 10; restart++ {
		cur := pids[len(pids)-1]
		if err := syscall.Kill(cur, syscall.SIGUSR2); err != nil {
			t.Fatalf("restart %d: %v", restart, err)
		}
		var next int
		deadline := time.Now().Add(30 * time.Second)
		for next == 0 {
			out, _ := os.ReadFile(logf.Name())
			if m := successor.FindAllSubmatch(out, -1); len(m) >= restart {
				next, _ = strconv.Atoi(string(m[restart-1][1]))
			}
			if time.Now().After(deadline) {
				t.Fatalf("restart %d: no successor within 30s:\n%s", restart, out)
			}
			time.Sleep(10 * time.Millisecond)
		}
		pids = append(pids, next)
		// The old process drains and exits 0.
		if restart == 1 {
			select {
			case err := <-firstExited:
				if err != nil {
					out, _ := os.ReadFile(logf.Name())
					t.Fatalf("the first process after the hand-over: %v\n%s", err, out)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the first process did not exit within 30s of the hand-over")
			}
			if err := <-slow; err != nil {
				t.Errorf("the query running during the hand-over failed: %v", err)
			}
		} else {
			deadline := time.Now().Add(30 * time.Second)
			for syscall.Kill(cur, 0) == nil {
				if time.Now().After(deadline) {
					t.Fatalf("restart %d: process %d still runs 30s after the hand-over", restart, cur)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	time.Sleep(200 * time.Millisecond)
	close(stopLoop)
	counts := <-loopDone
	t.Logf("10 restarts: %d connections, %d failed", counts[0]+counts[1], counts[1])
	if counts[1] > 0 || counts[0] < 50 {
		out, _ := os.ReadFile(logf.Name())
		t.Errorf("%d of %d connections failed during 10 restarts\n%s", counts[1], counts[0]+counts[1], out)
	}
}

// TestShadowLogsToIceberg writes the proxy's rows into an Iceberg table of the embedded
// catalog and reads them back with srctl diff.
func TestShadowLogsToIceberg(t *testing.T) {
	primary, err := mysqlwire.StartFakeRows(2)
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	shadow, err := mysqlwire.StartFakeRows(3) // one row more: every result differs
	if err != nil {
		t.Fatal(err)
	}
	defer shadow.Close()
	lake := t.TempDir()
	listen, stop := startShadowCmd(t, "--primary", primary.Addr(), "--shadow", shadow.Addr(), "--metrics-addr", "",
		"--log-sink", "iceberg://local/srctl.shadow_logs", "--lake-dir", lake, "--log-flush-interval", "200ms")
	nc, err := net.Dial("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := mysqlwire.Connect(nc, mysqlwire.ClientConfig{User: "root"})
	if err != nil {
		t.Fatal(err)
	}
	fc := mysqlwire.FrameConn{R: cc.R, W: cc.NC}
	for i := range 25 {
		if err := fc.WriteFrames([]byte(fmt.Sprintf("\x03SELECT %d /*route='/iceberg'*/", i)), 0); err != nil {
			t.Fatal(err)
		}
		for range 8 { // column count, 3 definitions, EOF, 2 rows, EOF (DEPRECATE_EOF was not asked for)
			if _, _, err := fc.ReadPacket(); err != nil {
				t.Fatal(err)
			}
		}
	}
	nc.Close()
	if code, errs := stop(); code != 0 {
		t.Fatalf("srctl shadow exited with %d: %s", code, errs)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"diff", "--format", "json", "--lake-dir", lake, "iceberg://local/srctl.shadow_logs"}, &out, &errb); code != 0 {
		t.Fatalf("srctl diff exited with %d: %s", code, errb.String())
	}
	var rep analyze.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Pairs != 25 || rep.Summary.ResultMismatches != 25 {
		t.Errorf("pairs %d, result mismatches %d; want 25 and 25", rep.Summary.Pairs, rep.Summary.ResultMismatches)
	}
}
