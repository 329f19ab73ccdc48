package harness

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/testdouble/starrocksdouble"
)

// newTestComparer opens a comparer on the test server with cfg (DefaultConfig when nil),
// through a pool that never reuses connections, as the command's is.
func newTestComparer(t testing.TB, dsn string, cfg *Config) *Comparer {
	t.Helper()
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxIdleConns(0)
	t.Cleanup(func() { db.Close() })
	c := DefaultConfig()
	if cfg != nil {
		c = *cfg
	}
	cmp, err := NewComparer(context.Background(), db, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmp.Close() })
	return cmp
}

// seedOrders creates a table of 100,000 orders with an index on customer, named uniquely for
// this process so that concurrent test runs on one server do not meet. MariaDB's seq engine
// makes the rows.
func seedOrders(t testing.TB) string {
	t.Helper()
	dsn := testenv.MySQLDSN(t)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table := fmt.Sprintf("srctl_cb_orders_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	for _, st := range []string{
		fmt.Sprintf("CREATE TABLE %s (id INT PRIMARY KEY, customer INT NOT NULL, amount DECIMAL(10,2), note VARCHAR(20), KEY idx_customer (customer))", table),
		fmt.Sprintf("INSERT INTO %s SELECT seq, seq %% 1000, (seq %% 997) / 7, IF(seq %% 5 = 0, NULL, CONCAT('n', seq %% 13)) FROM seq_1_to_100000", table),
		fmt.Sprintf("ANALYZE TABLE %s", table),
	} {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("seeding: %s: %v", st, err)
		}
	}
	t.Cleanup(func() {
		if db, err := sql.Open("mysql", dsn); err == nil {
			db.Exec("DROP TABLE IF EXISTS " + table)
			db.Close()
		}
	})
	return table
}

func sqlCase(name, baseline, candidate string) Case {
	return Case{Name: name, BaselineSource: name + "-a.sql", CandidateSource: name + "-b.sql", Baseline: baseline, Candidate: candidate}
}

// TestCompareIndexRegression: the candidate cannot use the index; a full scan of 100,000 rows
// against an index lookup of 100 is a confirmed latency regression with the same rows, and
// the plan says the index was lost.
func TestCompareIndexRegression(t *testing.T) {
	table := seedOrders(t)
	c := newTestComparer(t, testenv.MySQLDSN(t), nil)
	res := c.Compare(context.Background(), sqlCase("index",
		fmt.Sprintf("SELECT id, amount, note FROM %s WHERE customer = 42", table),
		fmt.Sprintf("SELECT id, amount, note FROM %s IGNORE INDEX (idx_customer) WHERE customer = 42", table)))
	if res.Bits != BitLatency {
		t.Fatalf("bits %d, want %d (latency only); reasons %q, latency %+v", res.Bits, BitLatency, res.Reasons, res.Latency)
	}
	if res.Result.Differs() || res.Result.BaselineRows != 100 {
		t.Errorf("result %+v, want the same 100 rows", res.Result)
	}
	if !res.Latency.Regressed() || res.Latency.Ratio < 2 {
		t.Errorf("latency %+v, want a confirmed regression of more than 2x", res.Latency)
	}
	if res.Plan == nil || res.Plan.Same || !strings.Contains(planLine(res), "full scan") {
		t.Errorf("plan %+v, want a change naming the full scan", res.Plan)
	}
}

// TestCompareChangedRow: one row's amount changes; the example shows it on both sides.
func TestCompareChangedRow(t *testing.T) {
	table := seedOrders(t)
	c := newTestComparer(t, testenv.MySQLDSN(t), nil)
	res := c.Compare(context.Background(), sqlCase("changed",
		fmt.Sprintf("SELECT id, amount, note FROM %s WHERE customer = 42", table),
		fmt.Sprintf("SELECT id, IF(id = 42042, amount + 1, amount) AS amount, note FROM %s WHERE customer = 42", table)))
	if res.Bits != BitResultDiff {
		t.Fatalf("bits %d, want %d; reasons %q", res.Bits, BitResultDiff, res.Reasons)
	}
	d := res.Result
	if d.Changed != 1 || d.Missing != 0 || d.Extra != 0 || len(d.Examples) != 1 {
		t.Fatalf("diff %+v, want exactly one changed row", d)
	}
	ex := d.Examples[0]
	if ex.Kind != "changed" || rowText(ex.Baseline) != "(42042, 24.00, n0)" || rowText(ex.Candidate) != "(42042, 25.00, n0)" {
		t.Errorf("example %s: %s → %s", ex.Kind, rowText(ex.Baseline), rowText(ex.Candidate))
	}
}

// TestCompareEquivalentPasses: two texts of one query pass with "~" (parse time may differ by
// microseconds; the latency floor keeps that from failing).
func TestCompareEquivalentPasses(t *testing.T) {
	table := seedOrders(t)
	c := newTestComparer(t, testenv.MySQLDSN(t), nil)
	res := c.Compare(context.Background(), sqlCase("equivalent",
		fmt.Sprintf("SELECT id, amount FROM %s WHERE customer IN (42)", table),
		fmt.Sprintf("SELECT id, amount FROM %s WHERE customer = 42", table)))
	if res.Bits != 0 {
		t.Fatalf("bits %d, want a pass; reasons %q", res.Bits, res.Reasons)
	}
	if v := latencyVerdict(res.Latency); !strings.HasPrefix(v, "~") {
		t.Errorf("latency verdict %q, want ~", v)
	}
}

// TestCompareCandidateError: the server's message and code reach the report.
func TestCompareCandidateError(t *testing.T) {
	table := seedOrders(t)
	c := newTestComparer(t, testenv.MySQLDSN(t), nil)
	res := c.Compare(context.Background(), sqlCase("error",
		fmt.Sprintf("SELECT id FROM %s WHERE customer = 42", table),
		fmt.Sprintf("SELECT id, nope FROM %s WHERE customer = 42", table)))
	if res.Bits != BitCandidateError || res.Candidate == nil || res.Candidate.Code != 1054 || !strings.Contains(res.Candidate.Message, "nope") {
		t.Fatalf("bits %d, candidate %+v; want 32 with error 1054 naming the column", res.Bits, res.Candidate)
	}
	// A failing baseline is no finding about the candidate: the case could not be compared.
	res = c.Compare(context.Background(), sqlCase("baseline-error", "SELECT nope FROM missing_table_x", "SELECT 1"))
	if res.Bits != BitInfrastructure || !strings.Contains(res.Error, "baseline") {
		t.Errorf("bits %d, error %q; want 1 and a message about the baseline", res.Bits, res.Error)
	}
}

// TestCompareAA: a baseline compared with itself passes at the default alpha. A false
// regression here would fail unrelated PRs. The design lets one through about once in a
// thousand cases (TestTwoStageFalseRegressionRate pins that on simulated noise); on a loaded CI
// machine runs are noisier and correlated, so one of 20 may fail (seen: once in 160 beside two
// busy loops) while two would mean the confirmation stopped working; other failures never.
func TestCompareAA(t *testing.T) {
	table := seedOrders(t)
	c := newTestComparer(t, testenv.MySQLDSN(t), nil)
	q := fmt.Sprintf("SELECT customer, COUNT(*), SUM(amount) FROM %s WHERE customer BETWEEN 100 AND 140 GROUP BY customer", table)
	var falseRegressions []string
	for i := range 20 {
		res := c.Compare(context.Background(), sqlCase(fmt.Sprintf("aa-%d", i), q, q))
		switch {
		case res.Bits == BitLatency:
			falseRegressions = append(falseRegressions, fmt.Sprintf("run %d: %s", i+1, latencyLine(res.Latency)))
		case res.Bits != 0:
			t.Errorf("A/A run %d failed: bits %d, %q", i+1, res.Bits, res.Reasons)
		}
	}
	if len(falseRegressions) > 1 {
		t.Errorf("%d of 20 A/A runs failed as latency regressions, want at most 1:\n%s", len(falseRegressions), strings.Join(falseRegressions, "\n"))
	}
}

// TestCrossoverOnlyForReads: the sides swap sessions during the timed runs only when neither
// text changes the session; a SET of a session variable must stay on its own side's session.
func TestCrossoverOnlyForReads(t *testing.T) {
	for _, tc := range []struct {
		baseline, candidate string
		want                bool
	}{
		{"SELECT 1", "SELECT 2", true},
		{"SELECT 1", "WITH x AS (SELECT 1) SELECT * FROM x", true},
		{"SELECT 1", "SET SESSION sql_select_limit = 10; SELECT 1", false},
		{"SET @a = 1; SELECT @a", "SELECT 1", false},
		{"SELECT 1", "USE test; SELECT 1", false},
	} {
		if got := crossable(Case{Baseline: tc.baseline, Candidate: tc.candidate}); got != tc.want {
			t.Errorf("crossable(%q, %q) = %v, want %v", tc.baseline, tc.candidate, got, tc.want)
		}
	}
}

// TestCompareValueRules: NULL is not ”, DECIMAL scale does not matter, floats compare within
// the tolerance, order matters only when both sides ORDER BY.
func TestCompareValueRules(t *testing.T) {
	dsn := testenv.MySQLDSN(t)
	cfg := DefaultConfig()
	cfg.Iterations, cfg.Warmup = 2, 0
	exact := cfg
	exact.FloatTolerance = 0
	for _, tc := range []struct {
		name       string
		a, b       string
		cfg        Config
		wantDiffer bool
	}{
		{"null-vs-empty", "SELECT NULL AS v UNION ALL SELECT ''", "SELECT '' AS v UNION ALL SELECT ''", cfg, true},
		{"empty-after-null", "SELECT NULL AS v UNION ALL SELECT ''", "SELECT NULL AS v UNION ALL SELECT NULL", cfg, true},
		{"decimal-scale", "SELECT CAST(1.5 AS DECIMAL(10,2)) AS v", "SELECT CAST(1.5 AS DECIMAL(10,4)) AS v", cfg, false},
		{"float-tolerance", "SELECT 0.1e0 + 0.2e0 AS v", "SELECT 0.3e0 AS v", cfg, false},
		{"float-exact", "SELECT 0.1e0 + 0.2e0 AS v", "SELECT 0.3e0 AS v", exact, true},
		{"multiset", "SELECT 1 AS v UNION ALL SELECT 2", "SELECT 2 AS v UNION ALL SELECT 1", cfg, false},
		{"duplicates", "SELECT 1 AS v UNION ALL SELECT 1", "SELECT 1 AS v", cfg, true},
		{"ordered", "SELECT v FROM (SELECT 1 AS v UNION ALL SELECT 2) x ORDER BY v", "SELECT v FROM (SELECT 1 AS v UNION ALL SELECT 2) x ORDER BY v DESC", cfg, true},
		{"column-name", "SELECT 1 AS a", "SELECT 1 AS b", cfg, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestComparer(t, dsn, &tc.cfg)
			res := c.Compare(context.Background(), sqlCase(tc.name, tc.a, tc.b))
			if res.Error != "" {
				t.Fatal(res.Error)
			}
			if got := res.Result.Differs(); got != tc.wantDiffer {
				t.Errorf("differs = %v, want %v: %s %+v", got, tc.wantDiffer, res.Result.Summary(), res.Result.Examples)
			}
		})
	}
}

// TestCompareTimeout: a candidate that outlives --timeout is killed and reported quickly.
func TestCompareTimeout(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Timeout = 300 * time.Millisecond
	c := newTestComparer(t, testenv.MySQLDSN(t), &cfg)
	start := time.Now()
	res := c.Compare(context.Background(), sqlCase("timeout", "SELECT 1 AS v", "SELECT SLEEP(20) AS v"))
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v with a 300ms timeout", took)
	}
	if res.Bits != BitCandidateError || !strings.Contains(res.Candidate.Message, "KILL QUERY") {
		t.Errorf("bits %d, candidate %+v; want a candidate error saying it was killed", res.Bits, res.Candidate)
	}
}

// TestCompareOnStarRocks runs the StarRocks paths (server detection, session variables for
// --cold, EXPLAIN COSTS, profiles through last_query_id() and get_query_profile(), KILL QUERY)
// against the test double of an FE's MySQL port, which forwards ordinary SQL to MariaDB.
func TestCompareOnStarRocks(t *testing.T) {
	table := seedOrders(t)
	fe, err := starrocksdouble.Start("127.0.0.1:0", starrocksdouble.Options{Backend: testenv.MySQLDSN(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fe.Close() })
	cfg := DefaultConfig()
	cfg.Cold = true
	cfg.Session = []string{"pipeline_dop=1"}
	c := newTestComparer(t, fe.DSN("root", "", "test"), &cfg)
	if c.Server().Kind != StarRocks || c.Server().Version != "3.5.2-69de616" {
		t.Fatalf("detected %+v, want StarRocks", c.Server())
	}
	res := c.Compare(context.Background(), sqlCase("sr-index",
		fmt.Sprintf("SELECT id, amount FROM %s WHERE customer = 42", table),
		fmt.Sprintf("SELECT id, amount FROM %s IGNORE INDEX (idx_customer) WHERE customer = 42", table)))
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	if res.Bits != BitLatency|BitResource {
		t.Errorf("bits %d, want latency and resource regressions; reasons %q, notes %q", res.Bits, res.Reasons, res.Notes)
	}
	if res.Plan == nil || res.Plan.Statement != "EXPLAIN COSTS" || res.Plan.Same || !strings.Contains(planLine(res), "idx_customer") {
		t.Errorf("plan %+v", res.Plan)
	}
	p := res.Profile
	if p == nil || p.BaselineQueryID == "" || p.BaselineQueryID == p.CandidateQueryID {
		t.Fatalf("profiles %+v", p)
	}
	if rows, _ := p.Metric("scan raw rows"); rows.A <= 0 || rows.B < 100_000 || rows.B <= rows.A {
		t.Errorf("scan rows %+v: the candidate reads the whole table", rows)
	}
	// Every side's connection got the cold settings and --session; the profile runs turned on
	// synchronous profiling.
	got := map[string]int{}
	for _, s := range fe.Sets() {
		got[s.Variable+"="+s.Value]++
	}
	for _, want := range []string{"enable_query_cache=false", "use_page_cache=false", "enable_scan_datacache=false",
		"enable_populate_datacache=false", "pipeline_dop=1", "enable_profile=true", "enable_async_profile=false"} {
		if got[want] == 0 {
			t.Errorf("no connection set %s (sets: %v)", want, got)
		}
	}
	// Two sides, a confirmation pair and three profiled runs per side: ten connections, all cold.
	if got["enable_query_cache=false"] != 10 || got["enable_profile=true"] != 6 {
		t.Errorf("%d connections set the cold settings (want 10), %d turned on profiling (want 6)", got["enable_query_cache=false"], got["enable_profile=true"])
	}

	// A run past the timeout is killed through the double.
	cfg.Timeout = 300 * time.Millisecond
	c2 := newTestComparer(t, fe.DSN("root", "", "test"), &cfg)
	start := time.Now()
	res = c2.Compare(context.Background(), sqlCase("sr-timeout", "SELECT 1 AS v", "SELECT SLEEP(20) AS v"))
	if took := time.Since(start); took > 5*time.Second || res.Bits != BitCandidateError {
		t.Errorf("timeout through the double: %v, bits %d, %+v", took, res.Bits, res.Candidate)
	}
}
