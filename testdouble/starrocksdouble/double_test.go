package starrocksdouble

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"go.uber.org/goleak"

	"github.com/srctl/srctl/analyze/plan"
	"github.com/srctl/srctl/analyze/profile"
	"github.com/srctl/srctl/internal/testenv"
)

func startDouble(t *testing.T, opts Options) *Server {
	t.Helper()
	opts.Backend = testenv.MySQLDSN(t)
	s, err := Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clientOf is a go-sql-driver pool of connections to the double, closed after the test.
func clientOf(t *testing.T, s *Server) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", s.DSN("root", "", "test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func conn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDoubleStarRocksStatements(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs last: after the double's Close
	s := startDouble(t, Options{AsyncProfileDelay: 300 * time.Millisecond})
	db := clientOf(t, s)
	ctx := context.Background()
	c := conn(t, db)

	var v string
	if err := c.QueryRowContext(ctx, "SELECT current_version()").Scan(&v); err != nil || v != "3.5.2-69de616" {
		t.Fatalf("current_version() = %q, %v", v, err)
	}
	// Forwarded queries keep types, NULLs and empty strings.
	var n int64
	var d string
	var null, empty sql.NullString
	if err := c.QueryRowContext(ctx, "SELECT 42, CAST(1.50 AS DECIMAL(5,2)), NULL, ''").Scan(&n, &d, &null, &empty); err != nil {
		t.Fatal(err)
	}
	if n != 42 || d != "1.50" || null.Valid || !empty.Valid || empty.String != "" {
		t.Errorf("forwarded row: %d %q %+v %+v", n, d, null, empty)
	}
	// A backend error keeps its code and message.
	if _, err := c.ExecContext(ctx, "SELECT nope FROM no_such_table_srctl"); err == nil || !strings.Contains(err.Error(), "1146") {
		t.Errorf("error %v, want the backend's 1146", err)
	}

	// Synchronous profile: visible at once, in the profile grammar, with the query's id.
	for _, st := range []string{"SET enable_profile = true", "SET enable_async_profile = false"} {
		if _, err := c.ExecContext(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.ExecContext(ctx, "/* tag */ -- a line comment before the query\nSELECT seq FROM seq_1_to_1000 WHERE seq % 7 = 0"); err != nil {
		t.Fatal(err)
	}
	var id, text string
	if err := c.QueryRowContext(ctx, "SELECT last_query_id()").Scan(&id); err != nil || len(id) != 36 {
		t.Fatalf("last_query_id() = %q, %v", id, err)
	}
	if err := c.QueryRowContext(ctx, "SELECT get_query_profile('"+id+"')").Scan(&text); err != nil {
		t.Fatal(err)
	}
	p := profile.Parse(text)
	h := p.Headlines()
	if len(p.Warnings) > 0 || h.State != "Finished" || h.ScanRawRows < 1000 || h.CPUNS <= 0 || h.PeakMemoryPerNodeBytes < 1<<20 {
		t.Errorf("profile headlines %+v, warnings %v\n%s", h, p.Warnings, text)
	}
	if !strings.Contains(text, "Query ID: "+id) {
		t.Errorf("the profile does not carry the query id %s", id)
	}

	// Asynchronous profile: "" right after the query, the text after the delay.
	if _, err := c.ExecContext(ctx, "SET enable_async_profile = true"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	c.QueryRowContext(ctx, "SELECT last_query_id()").Scan(&id)
	c.QueryRowContext(ctx, "SELECT get_query_profile('"+id+"')").Scan(&text)
	if text != "" {
		t.Error("an async profile was visible at once")
	}
	time.Sleep(400 * time.Millisecond)
	c.QueryRowContext(ctx, "SELECT get_query_profile('"+id+"')").Scan(&text)
	if !strings.Contains(text, id) {
		t.Errorf("async profile after the delay: %q", text)
	}
	// No profiling: no profile.
	c.ExecContext(ctx, "SET enable_profile = false")
	c.ExecContext(ctx, "SELECT 2")
	c.QueryRowContext(ctx, "SELECT last_query_id()").Scan(&id)
	time.Sleep(400 * time.Millisecond)
	c.QueryRowContext(ctx, "SELECT get_query_profile('"+id+"')").Scan(&text)
	if text != "" {
		t.Error("a profile without enable_profile")
	}

	sets := s.Sets()
	if len(sets) < 3 || sets[0].Variable != "enable_profile" || sets[0].Value != "true" {
		t.Errorf("sets %+v", sets)
	}
}

func TestDoubleExplainCosts(t *testing.T) {
	s := startDouble(t, Options{})
	db := clientOf(t, s)
	ctx := context.Background()
	c := conn(t, db)
	for _, st := range []string{
		"CREATE TEMPORARY TABLE srctl_dbl_a (id INT PRIMARY KEY, k INT, KEY idx_k (k))",
		"CREATE TEMPORARY TABLE srctl_dbl_b (id INT PRIMARY KEY, v INT)",
		"INSERT INTO srctl_dbl_a SELECT seq, seq % 10 FROM seq_1_to_2000",
		"INSERT INTO srctl_dbl_b SELECT seq, seq FROM seq_1_to_100",
	} {
		if _, err := c.ExecContext(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	explain := func(q string) *plan.Plan {
		rows, err := c.QueryContext(ctx, "EXPLAIN COSTS "+q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var l string
			rows.Scan(&l)
			lines = append(lines, l)
		}
		p := plan.Parse(strings.Join(lines, "\n"))
		if p.Root == nil || len(p.Warnings) > 0 {
			t.Fatalf("EXPLAIN of %s did not parse: %v\n%s", q, p.Warnings, strings.Join(lines, "\n"))
		}
		return p
	}
	withIndex := explain("-- comments before the query are no part of it\nSELECT * FROM srctl_dbl_a WHERE k = 3")
	fullScan := explain("SELECT * FROM srctl_dbl_a IGNORE INDEX (idx_k) WHERE k = 3")
	d := plan.Compare(withIndex, fullScan)
	if d.Same || !strings.Contains(d.Changes[0].Text, "idx_k") {
		t.Errorf("index lost: %+v", d)
	}
	join := explain("SELECT * FROM srctl_dbl_a a JOIN srctl_dbl_b b ON a.id = b.id")
	if st := join.Structure(); len(st.Scans) != 2 || len(st.Joins) != 1 {
		t.Errorf("join structure %+v", st)
	}
	if _, err := c.QueryContext(ctx, "EXPLAIN LOGICAL SELECT 1"); err == nil {
		t.Error("EXPLAIN LOGICAL should be refused by the double")
	}
}

// TestDoubleKillQuery: KILL QUERY with the id from connection_id() reaches the running query.
func TestDoubleKillQuery(t *testing.T) {
	s := startDouble(t, Options{})
	db := clientOf(t, s)
	ctx := context.Background()
	victim, ctl := conn(t, db), conn(t, db)
	var id int64
	if err := victim.QueryRowContext(ctx, "SELECT connection_id()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		ctl.ExecContext(ctx, "KILL QUERY "+strconv.FormatInt(id, 10))
	}()
	start := time.Now()
	var r int
	err := victim.QueryRowContext(ctx, "SELECT SLEEP(20)").Scan(&r)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the killed query ran %v", took)
	}
	if err == nil && r != 1 { // MariaDB answers a killed SLEEP with 1, or with an error
		t.Errorf("SLEEP after KILL QUERY returned %d, want 1 or an error", r)
	}
	t.Logf("killed SLEEP: %d, %v", r, err)
	var one int
	if err := victim.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("session unusable after the kill: %v", err)
	}
}

func TestDoubleAuth(t *testing.T) {
	s := startDouble(t, Options{User: "ci", Password: "s3cret"})
	for dsn, ok := range map[string]bool{s.DSN("ci", "s3cret", ""): true, s.DSN("ci", "wrong", ""): false, s.DSN("other", "s3cret", ""): false} {
		db, _ := sql.Open("mysql", dsn)
		err := db.Ping()
		db.Close()
		if (err == nil) != ok {
			t.Errorf("%s: %v", dsn, err)
		}
	}
}
