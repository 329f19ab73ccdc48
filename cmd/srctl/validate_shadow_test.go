//go:build !shadowonly

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/analyze"
	"github.com/srctl/srctl/internal/testenv"
)

const validateDB = "srctl_validate_it"

// sameClusters sets up the same schema and data, index included, on the primary (the local
// MariaDB) and a second mariadbd, the shadow; it returns their addresses.
func sameClusters(t *testing.T) (primary, shadow string) {
	t.Helper()
	pcfg, err := mysql.ParseDSN(testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	sh := testenv.StartMariaDB(t)
	for _, addr := range []string{pcfg.Addr, sh.Addr} {
		execAll(t, addr,
			"DROP DATABASE IF EXISTS "+validateDB, "CREATE DATABASE "+validateDB, "USE "+validateDB,
			"CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)",
			"INSERT INTO customers SELECT seq, CONCAT('customer ', seq) FROM seq_1_to_50",
			"CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2) NOT NULL)",
			"INSERT INTO orders SELECT seq, seq % 1000, seq * 1.5 FROM seq_1_to_300000",
			"CREATE INDEX idx_customer ON orders (customer_id)")
	}
	t.Cleanup(func() {
		if db, err := sql.Open("mysql", "root@tcp("+pcfg.Addr+")/"); err == nil {
			db.Exec("DROP DATABASE IF EXISTS " + validateDB)
			db.Close()
		}
	})
	return pcfg.Addr, sh.Addr
}

func execAll(t *testing.T, addr string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("mysql", "root@tcp("+addr+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // USE applies to the one connection
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s on %s: %v", s, addr, err)
		}
	}
}

// shadowRowsLogged counts the query rows of the shadow target srctl shadow has written so far.
func shadowRowsLogged(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".jsonl") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for line := range bytes.Lines(data) {
			var r struct{ Target, Command string }
			if json.Unmarshal(line, &r) == nil && r.Target == "shadow" && (r.Command == "COM_QUERY" || r.Command == "COM_STMT_EXECUTE") {
				n++
			}
		}
		return nil
	})
	return n
}

// TestValidateShadowIndexDropped is the test on real shadow logs: srctl shadow between
// two MariaDB servers with the same data; between two windows of the same traffic the shadow
// loses an index. validate must find exactly that: a regression of the endpoint that used the
// index, on the shadow, and nothing on the primary.
func TestValidateShadowIndexDropped(t *testing.T) {
	primary, shadow := sameClusters(t)
	logs := filepath.Join(t.TempDir(), "shadow-logs")
	listen, stop := startShadowCmd(t, "--primary", primary, "--shadow", shadow, "--shadow-user", "root",
		"--log-sink", logs, "--log-flush-interval", "100ms", "--metrics-addr", "", "--queue-size", "4096")
	db, err := sql.Open("mysql", "root@tcp("+listen+")/"+validateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxIdleConns(4)
	const perWindow = 60
	traffic := func(window int) {
		for i := range perWindow {
			var n int
			// Uses idx_customer.
			if err := db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM orders WHERE customer_id = %d /*route='/orders/by-customer'*/", (window*perWindow+i)%1000)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			// Primary-key lookups: the index does not matter to them.
			var name string
			if err := db.QueryRow("SELECT name FROM customers WHERE id = ? /*route='/customers/get'*/", 1+i%50).Scan(&name); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(fmt.Sprintf("SELECT SUM(total) FROM orders WHERE id BETWEEN %d AND %d /*route='/orders/range'*/", i*100, i*100+50)).Scan(new(sql.NullString)); err != nil {
				t.Fatal(err)
			}
		}
	}
	traffic(0)
	// Every shadow copy of window 1 is logged before the change, so the windows do not mix.
	deadline := time.Now().Add(60 * time.Second)
	for shadowRowsLogged(t, logs) < 3*perWindow {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d shadow rows logged after 60s", shadowRowsLogged(t, logs), 3*perWindow)
		}
		time.Sleep(50 * time.Millisecond)
	}
	changeAt := time.Now().UTC()
	execAll(t, shadow, "USE "+validateDB, "DROP INDEX idx_customer ON orders")
	traffic(1)
	db.Close()
	if code, errs := stop(); code != 0 {
		t.Fatalf("srctl shadow exited with %d: %s", code, errs)
	}

	// --min-delta 5ms: the unchanged endpoints take well under a millisecond; a loaded machine
	// can move their quantiles by a millisecond or two, never by the full scan the drop causes.
	code, out, stderr := runCLI(context.Background(), "validate", "--format", "json", "--min-delta", "5ms", "--fail-on", "regression",
		"--change-at", changeAt.Format(time.RFC3339Nano), logs)
	if code != exitRegression {
		t.Fatalf("srctl validate exited with %d, want %d (a regression): %s", code, exitRegression, stderr)
	}
	var rep analyze.ValidateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("validate JSON: %v\n%s", err, out)
	}
	var found []string
	rows := 0
	for _, e := range rep.Endpoints {
		rows++
		if e.Verdict != analyze.VerdictSame {
			found = append(found, fmt.Sprintf("%s %s %s", e.Verdict, e.Endpoint, e.Target))
		}
		if e.Before.Executions != perWindow || e.After.Executions != perWindow || e.Timing != "server_ms" {
			t.Errorf("%s %s: %d executions before, %d after, timing %s; want %d each on server_ms",
				e.Endpoint, e.Target, e.Before.Executions, e.After.Executions, e.Timing, perWindow)
		}
	}
	if want := "regression /orders/by-customer shadow"; len(found) != 1 || found[0] != want || rows != 6 {
		t.Errorf("verdicts %q over %d rows, want exactly [%q] over 3 endpoints x 2 targets", found, rows, want)
	}
	if t.Failed() {
		_, table, _ := runCLI(context.Background(), "validate", "--min-delta", "5ms", "--change-at", changeAt.Format(time.RFC3339Nano), logs)
		t.Log(table)
	}
}
