//go:build !shadowonly

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// startShadowProcess runs srctl shadow as a child process (the test binary acting as srctl).
func startShadowProcess(t *testing.T, args ...string) (cmd *exec.Cmd, exited chan error, stderr *testenv.SyncBuffer) {
	t.Helper()
	argv, _ := json.Marshal(append([]string{"shadow", "--log-level", "warn"}, args...))
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(argv))
	exited, stderr = startProcess(t, cmd)
	return cmd, exited, stderr
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
