//go:build !shadowonly

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/harness"
	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/testdouble/starrocksdouble"
)

const replayDB = "srctl_replay_it"

// replaySecret is the shadow login's password: it must never reach any output.
const replaySecret = "Replay-S3cret-Marker"

// replayClusters sets up the same schema and data on the primary (the local MariaDB) and a
// second mariadbd, with four planted differences on the shadow: orders.customer_id lost its
// index, the function discount() is missing, customer 7 has another name, and the server's
// join_buffer_size default differs. The shadow is reached by a login with a password.
func replayClusters(t *testing.T) (primaryDSN, shadowDSN, shadowAddr string) {
	t.Helper()
	pcfg, err := mysql.ParseDSN(testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	// The shadow starts configured like the primary where a fresh mariadbd differs from the
	// distribution's (character set, buffer pool, name resolution), so that the planted
	// variable is the only difference.
	pdb, err := sql.Open("mysql", testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	var charset, collation, skipResolve string
	var pool int64
	if err := pdb.QueryRow("SELECT @@character_set_server, @@collation_server, @@innodb_buffer_pool_size, @@skip_name_resolve").Scan(&charset, &collation, &pool, &skipResolve); err != nil {
		t.Fatal(err)
	}
	pdb.Close()
	like := []string{"--character-set-server=" + charset, "--collation-server=" + collation, fmt.Sprintf("--innodb-buffer-pool-size=%d", pool)}
	if skipResolve == "1" {
		like = append(like, "--skip-name-resolve")
	}
	sh := testenv.StartMariaDB(t, like...)
	common := []string{"DROP DATABASE IF EXISTS " + replayDB, "CREATE DATABASE " + replayDB, "USE " + replayDB,
		"CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)",
		"INSERT INTO customers SELECT seq, CONCAT('customer ', seq) FROM seq_1_to_50",
		"CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2) NOT NULL)",
		"INSERT INTO orders SELECT seq, seq % 1000, seq * 1.5 FROM seq_1_to_300000"}
	execAll(t, pcfg.Addr, append(common, "CREATE INDEX idx_customer ON orders (customer_id)",
		"CREATE FUNCTION discount(x DECIMAL(10,2)) RETURNS DECIMAL(10,2) DETERMINISTIC RETURN x * 0.9")...)
	execAll(t, sh.Addr, append(common, "UPDATE customers SET name = 'renamed on the shadow' WHERE id = 7",
		"SET GLOBAL join_buffer_size = 1048576",
		"CREATE USER 'replay'@'%' IDENTIFIED BY '"+replaySecret+"'", "GRANT SELECT, EXECUTE, SHOW VIEW ON "+replayDB+".* TO 'replay'@'%'")...)
	t.Cleanup(func() {
		if db, err := sql.Open("mysql", "root@tcp("+pcfg.Addr+")/"); err == nil {
			db.Exec("DROP DATABASE IF EXISTS " + replayDB)
			db.Close()
		}
	})
	return "root@tcp(" + pcfg.Addr + ")/" + replayDB, "replay:" + replaySecret + "@tcp(" + sh.Addr + ")/" + replayDB, sh.Addr
}

// replayLogs writes srctl shadow's primary rows for five endpoints: one that needs the index,
// one that calls discount(), one unchanged, one that reads customer 7, and a write.
func replayLogs(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	ts := time.Date(2026, 3, 5, 14, 0, 0, 0, time.UTC)
	row := func(route, sql string, ms float64) {
		ts = ts.Add(time.Second)
		line, _ := json.Marshal(map[string]any{"ts": ts.Format(time.RFC3339Nano), "query_id": fmt.Sprintf("q%d", ts.Unix()), "target": "primary",
			"command": "COM_QUERY", "query_text": sql + " /*route='" + route + "'*/", "duration_ms": ms, "bytes_sent": len(sql), "bytes_recv": 100,
			"success": true, "client_addr": "10.0.0.1:4000", "server_ms": ms})
		b.Write(line)
		b.WriteByte('\n')
	}
	for i := range 12 {
		row("/orders/by-customer", fmt.Sprintf("SELECT COUNT(*), SUM(total) FROM orders WHERE customer_id = %d", 100+i), 0.4+float64(i)/10)
		row("/orders/discount", fmt.Sprintf("SELECT discount(total) FROM orders WHERE id = %d", 1+i), 0.3)
		row("/customers/get", fmt.Sprintf("SELECT name FROM customers WHERE id = %d", 10+i), 0.2+float64(i)/100)
		row("/customers/list", "SELECT id, name FROM customers ORDER BY id", 0.5)
		row("/customers/rename", fmt.Sprintf("UPDATE customers SET name = 'changed by replay' WHERE id = %d", 1+i), 0.6)
	}
	path := filepath.Join(t.TempDir(), "logs.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplayFindsThePlantedDifferences is the test against two real MariaDB servers:
// exactly the latency regression, the shadow-only errors, the result difference and the
// variable difference; nothing on the unchanged endpoint; the write refused and not run; the
// shadow's password in no output.
func TestReplayFindsThePlantedDifferences(t *testing.T) {
	primary, shadow, shadowAddr := replayClusters(t)
	logs := replayLogs(t)
	args := []string{"replay", "--primary-dsn", primary, "--shadow-dsn", shadow, "--per-endpoint", "4", "--iterations", "5",
		"--min-delta", "2ms", "--fail-on", "regression,failure,divergence"}
	page := filepath.Join(t.TempDir(), "replay.html")
	code, out, stderr := runCLI(context.Background(), append(args, "--format", "json", "--report-html", page, logs)...)
	if code != exitRegression|exitShadowFailure|exitDivergence {
		t.Fatalf("exit %d, want %d: %s\n%s", code, exitRegression|exitShadowFailure|exitDivergence, stderr, out)
	}
	var rep harness.ReplayReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("replay JSON: %v\n%s", err, out)
	}
	var got []string
	for _, e := range rep.Endpoints {
		if e.Verdict != "~" || e.ShadowOnlyErrors+e.PrimaryOnlyErrors+e.BothErrors+e.ResultDifferences+e.Refused > 0 {
			got = append(got, fmt.Sprintf("%s %s errors=%d/%d/%d results=%d refused=%d", e.Endpoint, e.Verdict,
				e.ShadowOnlyErrors, e.PrimaryOnlyErrors, e.BothErrors, e.ResultDifferences, e.Refused))
		}
	}
	want := []string{
		"/orders/by-customer regression errors=0/0/0 results=0 refused=0",
		"/customers/list insufficient data errors=0/0/0 results=1 refused=0", // one distinct text
		"/orders/discount insufficient data errors=4/0/0 results=0 refused=0",
		"/customers/rename insufficient data errors=0/0/0 results=0 refused=4",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("endpoints\n got %q\nwant %q", got, want)
	}
	for _, q := range rep.Queries {
		if q.Endpoint == "/customers/list" && (q.Rows == nil || q.Rows.Changed != 1 || len(q.Rows.Examples) != 1 ||
			*q.Rows.Examples[0].Baseline[1] != "customer 7" || *q.Rows.Examples[0].Candidate[1] != "renamed on the shadow") {
			t.Errorf("/customers/list: located rows %+v, want customer 7 changed", q.Rows)
		}
	}
	for _, e := range rep.Endpoints {
		if (e.PlanChanges > 0) != (e.Endpoint == "/orders/by-customer") {
			t.Errorf("%s: %d queries with a changed plan (only the lost index changes plans)", e.Endpoint, e.PlanChanges)
		}
		if e.Endpoint == "/orders/discount" && (len(e.Errors) != 1 || e.Errors[0].Code != 1305 || e.Errors[0].Server != "shadow") {
			t.Errorf("discount errors %+v, want shadow 1305", e.Errors)
		}
	}
	checkReplayPage(t, page, &rep)
	var vars []string
	for _, v := range rep.Context.Variables {
		vars = append(vars, v.Name)
	}
	if !slices.Equal(vars, []string{"join_buffer_size"}) {
		t.Errorf("variables differing %q, want [join_buffer_size]", vars)
	}
	var tables []string
	for _, td := range rep.Context.Tables {
		tables = append(tables, fmt.Sprintf("%s same=%v only-primary=%q", td.Table, td.Same, td.OnlyPrimary))
	}
	if want := []string{`customers same=true only-primary=[]`, `orders same=false only-primary=["KEY ` + "`idx_customer`" + ` (` + "`customer_id`" + `)"]`}; !slices.Equal(tables, want) {
		t.Errorf("tables\n got %q\nwant %q", tables, want)
	}
	// The refused write did not run on either server.
	for _, dsn := range []string{primary, "root@tcp(" + shadowAddr + ")/" + replayDB} {
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM customers WHERE name = 'changed by replay'").Scan(&n); err != nil || n != 0 {
			t.Errorf("%d rows changed by a refused write (%v)", n, err)
		}
		db.Close()
	}
	// Every format renders, and the password is in none of them, nor in an error.
	for _, format := range []string{"table", "markdown", "csv"} {
		code, out, stderr := runCLI(context.Background(), append(args, "--iterations", "2", "--endpoint", "/customers/get", "--format", format, logs)...)
		if code != 0 || !strings.Contains(out, "/customers/get") {
			t.Errorf("--format %s: exit %d\n%s%s", format, code, out, stderr)
		}
		if strings.Contains(out+stderr, replaySecret) {
			t.Errorf("--format %s: the shadow's password is in the output", format)
		}
	}
	bad := strings.Replace(shadow, replaySecret, replaySecret+"-wrong", 1)
	code, out, stderr = runCLI(context.Background(), "replay", "--primary-dsn", primary, "--shadow-dsn", bad, logs)
	if code != exitFailure || !strings.Contains(stderr, "Access denied") || strings.Contains(out+stderr, replaySecret) {
		t.Errorf("wrong password: exit %d, output %q %q", code, out, stderr)
	}
	// The same queries from srctl collect's records (--records): the primary cluster's
	// FINISHED queries; the other cluster's and failed ones are not candidates.
	recs := filepath.Join(t.TempDir(), "records.jsonl")
	var rb strings.Builder
	for i := range 8 {
		for _, r := range []struct{ cluster, state string }{{"primary", "FINISHED"}, {"shadow", "FINISHED"}, {"primary", "FAILED"}} {
			line, _ := json.Marshal(map[string]any{"ts": "2026-03-05T14:01:00Z", "fe_host": "fe-0:8030", "cluster": r.cluster, "sr_query_id": fmt.Sprintf("%s-%d", r.cluster, i),
				"state": r.state, "start_time": "2026-03-05T14:00:00Z", "duration_ms": 1 + i, "schema_version": 1,
				"sql_text": fmt.Sprintf("SELECT COUNT(*), SUM(total) FROM orders WHERE customer_id = %d /*route='/orders/by-customer'*/", 200+i)})
			rb.Write(line)
			rb.WriteByte('\n')
		}
	}
	if err := os.WriteFile(recs, []byte(rb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLI(context.Background(), "replay", "--records", "--primary-dsn", primary, "--shadow-dsn", shadow, "--per-endpoint", "3",
		"--iterations", "3", "--min-delta", "2ms", "--format", "json", recs)
	var fromRecs harness.ReplayReport
	if code != 0 || json.Unmarshal([]byte(out), &fromRecs) != nil || len(fromRecs.Endpoints) != 1 || fromRecs.Endpoints[0].Verdict != "regression" ||
		fromRecs.Selection.Candidates != 8 || len(fromRecs.Queries) != 3 {
		t.Errorf("--records: exit %d, %s\n%s", code, stderr, out)
	}
	if t.Failed() {
		_, table, _ := runCLI(context.Background(), append(args, logs)...)
		t.Log(table)
	}
}

// TestReplayRespectsItsRate: statements are spaced at --rate (both servers together).
func TestReplayRespectsItsRate(t *testing.T) {
	primary := testenv.MySQLDSN(t)
	db, err := sql.Open("mysql", primary)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	logs := filepath.Join(t.TempDir(), "logs.jsonl")
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, `{"ts":"2026-03-05T14:00:0%dZ","query_id":"r%d","target":"primary","command":"COM_QUERY","query_text":"SELECT %d /*route='/rate'*/","duration_ms":0.1,"success":true}`+"\n", i, i, i)
	}
	if err := os.WriteFile(logs, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	const rate = 25.0
	code, out, stderr := runCLI(context.Background(), "replay", "--primary-dsn", primary, "--shadow-dsn", primary, "--rate", "25",
		"--iterations", "2", "--warmup", "0", "--concurrency", "3", "--format", "json", logs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep harness.ReplayReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	s := rep.Summary
	// 2 SHOW VARIABLES, then per query 2 result checks, 2 EXPLAINs and 4 timed runs.
	if s.Statements != 2+3*8 {
		t.Errorf("%d statements sent, want %d", s.Statements, 2+3*8)
	}
	if minimum := float64(s.Statements-1) / rate; s.ElapsedSeconds < minimum*0.95 {
		t.Errorf("%d statements in %.3fs: faster than %g a second (at least %.3fs)", s.Statements, s.ElapsedSeconds, rate, minimum)
	}
}

// TestReplayThroughTheStarRocksDouble runs replay through srctl's StarRocks SQL test double (a
// stand-in for an FE's MySQL port, not StarRocks: StarRocks-only statements answered, the rest
// forwarded to MariaDB) in front of each server, for the StarRocks-only parts: detection,
// EXPLAIN COSTS, and profiles fetched by query id. The lost index shows in the profiles' scans.
func TestReplayThroughTheStarRocksDouble(t *testing.T) {
	primary, _, shadowAddr := replayClusters(t)
	logs := replayLogs(t)
	var dsns []string
	for _, backend := range []string{primary, "root@tcp(" + shadowAddr + ")/" + replayDB} {
		fe, err := starrocksdouble.Start("127.0.0.1:0", starrocksdouble.Options{Backend: backend})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fe.Close() })
		dsns = append(dsns, fe.DSN("root", "", replayDB))
	}
	code, out, stderr := runCLI(context.Background(), "replay", "--primary-dsn", dsns[0], "--shadow-dsn", dsns[1], "--endpoint", "/orders/by-customer",
		"--per-endpoint", "3", "--iterations", "3", "--profile-runs", "1", "--format", "json", logs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep harness.ReplayReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Context.Primary.Kind != harness.StarRocks || rep.Context.Shadow.Kind != harness.StarRocks {
		t.Fatalf("servers %+v / %+v, want StarRocks (the double)", rep.Context.Primary, rep.Context.Shadow)
	}
	if len(rep.Endpoints) != 1 {
		t.Fatalf("endpoints %+v", rep.Endpoints)
	}
	e := rep.Endpoints[0]
	if e.Profile == nil {
		t.Fatalf("no profile comparison: %q", e.ProfileError)
	}
	moved := false
	for _, m := range e.Profile.Metrics {
		if strings.HasPrefix(m.Name, "scan") && strings.Contains(m.Name, "rows") && m.Ratio >= 10 {
			moved = true
		}
	}
	if !moved || e.Profile.BaselineQueryID == "" || e.Profile.CandidateQueryID == "" {
		t.Errorf("the lost index does not show in the profiles: %+v", e.Profile)
	}
	for _, q := range rep.Queries {
		if q.Plan == nil || q.PlanError != "" {
			t.Errorf("%s: no EXPLAIN COSTS comparison (%s)", q.SQL, q.PlanError)
		}
	}
	if e.Verdict != "regression" {
		t.Errorf("verdict %q through the double, want regression", e.Verdict)
	}
	// capture through the doubles: EXPLAIN COSTS and VERBOSE, profiles fetched by query id.
	bundle := filepath.Join(t.TempDir(), "bundle")
	if code, _, stderr := runCLI(context.Background(), "capture", "--endpoint", "/orders/by-customer", "--primary-dsn", dsns[0],
		"--shadow-dsn", dsns[1], "--out", bundle, logs); code != 0 {
		t.Fatalf("capture: exit %d: %s", code, stderr)
	}
	for _, side := range []string{"primary", "shadow"} {
		for _, f := range []string{"explain-typical-costs.txt", "explain-typical-verbose.txt", "profile-typical.txt", "profile-slow.txt"} {
			b, err := os.ReadFile(filepath.Join(bundle, side, f))
			if err != nil || len(strings.TrimSpace(string(b))) == 0 {
				t.Errorf("%s/%s: %v (%d bytes)", side, f, err, len(b))
			}
		}
	}
	summary, _ := os.ReadFile(filepath.Join(bundle, "summary.md"))
	if !strings.Contains(string(summary), "profile of the typical query: scan") {
		t.Errorf("summary.md does not say which profile metrics moved:\n%s", summary)
	}
}

// TestCaptureBundle: capture of the endpoint that lost its index, from the same logs and two
// servers: the summary names the missing index and the variable difference, the bundle holds
// both servers' table definitions and plans, no password anywhere, and --no-rows keeps rows out.
func TestCaptureBundle(t *testing.T) {
	primary, shadow, _ := replayClusters(t)
	logs := replayLogs(t)
	out := filepath.Join(t.TempDir(), "orders-context")
	code, stdout, stderr := runCLI(context.Background(), "capture", "--endpoint", "/orders/by-customer", "--primary-dsn", primary,
		"--shadow-dsn", shadow, "--out", out, "--tar", "--per-endpoint", "6", logs)
	if code != 0 || !strings.Contains(stdout, "summary.md") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	read := func(rel string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(out, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	summary := read("summary.md")
	for _, want := range []string{"table `orders`: only on the primary: `KEY 'idx_customer' ('customer_id')`", "variable `join_buffer_size`",
		"plan of the typical query", `no longer uses idx\_customer`} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary.md lacks %q:\n%s", want, summary)
		}
	}
	if strings.Contains(summary, "table `customers`") && strings.Contains(summary, "`customers`: only") {
		t.Errorf("summary.md reports customers as different:\n%s", summary)
	}
	for _, side := range []string{"primary", "shadow"} {
		ddl := read(side + "/tables/orders.sql")
		if has := strings.Contains(ddl, "idx_customer"); has != (side == "primary") {
			t.Errorf("%s/tables/orders.sql: index present %v\n%s", side, has, ddl)
		}
		if !strings.Contains(read(side+"/explain-typical-format-json.txt"), "orders") {
			t.Errorf("%s: no EXPLAIN of the typical query", side)
		}
	}
	if q := read("queries.sql"); strings.Count(q, "SELECT COUNT(*), SUM(total) FROM orders") != 6 || !strings.Contains(q, "(the slow one)") {
		t.Errorf("queries.sql:\n%s", q)
	}
	var ctxDoc harness.Capture
	if err := json.Unmarshal([]byte(read("context.json")), &ctxDoc); err != nil {
		t.Fatal(err)
	}
	if ctxDoc.SameResult == nil || !*ctxDoc.SameResult || len(ctxDoc.Servers) != 2 || ctxDoc.Servers[0].Snapshot == nil || len(ctxDoc.Servers[0].Snapshot.First) != 1 {
		t.Errorf("context.json: same result %v, servers %d, snapshot %+v", ctxDoc.SameResult, len(ctxDoc.Servers), ctxDoc.Servers[0].Snapshot)
	}
	// No password in any file of the bundle or the archive.
	filepath.WalkDir(filepath.Dir(out), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(path); strings.Contains(string(b), replaySecret) {
				t.Errorf("%s holds the shadow's password", path)
			}
		}
		return nil
	})
	if _, err := os.Stat(out + ".tar.gz"); err != nil {
		t.Errorf("--tar: %v", err)
	}
	// --no-rows: counts and hashes, no rows.
	out2 := filepath.Join(t.TempDir(), "no-rows")
	if code, _, stderr := runCLI(context.Background(), "capture", "--endpoint", "/customers/list", "--primary-dsn", primary, "--out", out2, "--no-rows", logs); code != 0 {
		t.Fatalf("--no-rows: exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(out2, "context.json"))
	if strings.Contains(string(b), "customer 1") || !strings.Contains(string(b), `"rows": 50`) {
		t.Errorf("--no-rows: context.json holds rows or lacks the count:\n%s", b)
	}
}
