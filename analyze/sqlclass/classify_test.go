package sqlclass

import (
	"strings"
	"testing"

	"github.com/srctl/srctl/analyze/sqlclass/sqlclasstest"
)

func TestHostileCorpusIsNeverReadOrState(t *testing.T) {
	for _, sql := range sqlclasstest.Hostile {
		c := Classify(sql)
		if c.Kind <= State {
			t.Errorf("Classify(%q) = %s: a statement that can write passed as %s", sql, c.Kind, c.Kind)
		}
		if c.ReadOnly {
			t.Errorf("Classify(%q).ReadOnly: compare-baseline would run it", sql)
		}
		if c.Why == "" || c.Statement == "" {
			t.Errorf("Classify(%q) = %+v: a refusal must name the statement and the reason", sql, c)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		sql      string
		typ      string
		kind     Kind
		readOnly bool
	}{
		{"SELECT 1", "select", Read, true},
		{"  /* hint */ select * from t /*route='/x'*/", "select", Read, true},
		{"(SELECT 1) UNION (SELECT 2)", "select", Read, true},
		{"WITH x AS (SELECT 1) SELECT * FROM x", "select", Read, true},
		{"SELECT REPLACE(a, 'x', 'y'), INSERT(b, 1, 2, 'z'), TRUNCATE(c, 2) FROM t", "select", Read, true},
		{"SELECT t.update, t.`delete` FROM t", "select", Read, true},
		{"SELECT 'DELETE FROM t; DROP TABLE u' AS x", "select", Read, true},
		{"SELECT 1 -- ; DROP TABLE t\n", "select", Read, true},
		{"SELECT 1 # ; DROP TABLE t", "select", Read, true},
		{"SELECT a FROM t WHERE b = 'it''s' AND c = \"q\"", "select", Read, true},
		{"SELECT /*+ SET_VAR(query_timeout=10) */ 1", "select", Read, true},
		{"SELECT @@global.max_connections, @@session.sql_mode", "select", Read, true},
		{"SELECT 1 INTO @x", "select", State, false},
		{"SELECT @x := 1", "select", State, false},
		{"SHOW TABLES", "show", Read, true},
		{"SHOW CREATE TABLE t", "show", Read, true},
		{"SHOW GRANTS FOR CURRENT_USER()", "show", Read, true},
		{"desc t", "describe", Read, true},
		{"EXPLAIN SELECT 1", "explain", Read, true},
		{"EXPLAIN FORMAT=JSON SELECT * FROM t", "explain", Read, true},
		{"EXPLAIN COSTS SELECT 1", "explain", Read, true},
		{"EXPLAIN VERBOSE (SELECT 1)", "explain", Read, true},
		{"EXPLAIN ANALYZE SELECT 1", "explain", Read, true},
		{"EXPLAIN DELETE FROM t", "explain", Write, false}, // not run, but refused all the same
		{"SET NAMES utf8mb4", "set", State, true},
		{"SET NAMES utf8mb4 COLLATE utf8mb4_bin", "set", State, true},
		{"SET @@session.query_timeout = 10", "set", State, true},
		{"SET SESSION query_timeout = 10, LOCAL sql_mode = 'ANSI', @@x = -1, @y := 'z'", "set", State, true},
		{"SET enable_profile = true", "set", State, true},
		{"SET sql_mode = CONCAT(@@sql_mode, ',ANSI')", "set", State, false},
		{"SET @x = (SELECT MAX(a) FROM t)", "set", State, false},
		{"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "set", State, false},
		{"SET SESSION TRANSACTION READ ONLY", "set", State, false},
		{"SET CATALOG hive", "set", State, false},
		{"SET STATEMENT max_statement_time=100 FOR SELECT 1", "select", Read, true},
		{"/*!40101 SET NAMES utf8 */", "set", State, true},
		{"/*!40101 SELECT 1 */", "select", Read, true},
		{"SELECT 1 /*!, 2 */", "select", Read, true},
		{"USE shop", "use", State, false},
		{"BEGIN", "transaction", State, false},
		{"BEGIN WORK", "transaction", State, false},
		{"START TRANSACTION READ ONLY", "transaction", State, false},
		{"COMMIT", "transaction", State, false},
		{"ROLLBACK TO SAVEPOINT a", "transaction", State, false},
		{"RELEASE SAVEPOINT a", "transaction", State, false},
		{"INSERT INTO t VALUES (1)", "insert", Write, false},
		{"LOAD DATA LOCAL INFILE '/x' INTO TABLE t", "load", LocalInfile, false},
		{"LOAD DATA LOW_PRIORITY LOCAL INFILE '/x' INTO TABLE t", "load", LocalInfile, false},
		{"LOAD DATA INFILE '/x' INTO TABLE t", "load", Write, false},
		{"SELECT 1; SELECT 2", "select", Read, true},
		{"SELECT 1; DELETE FROM t", "select", Write, false},
		{"SET @a = 1; SELECT @a", "set", State, true},
		{"SELECT ';' FROM t", "select", Read, true},
		{"-- just a comment", "other", Read, true},
		{"", "other", Read, true},
		{"VACUUM", "other", Unknown, false},
		{"SELECT 1 /*!99999 ; DROP TABLE t */", "select", Write, false},
	} {
		c := Classify(tc.sql)
		if c.Type != tc.typ || c.Kind != tc.kind || c.ReadOnly != tc.readOnly {
			t.Errorf("Classify(%q) = %s, %s, read-only %v (%s); want %s, %s, %v", tc.sql, c.Type, c.Kind, c.ReadOnly, c.Why, tc.typ, tc.kind, tc.readOnly)
		}
	}
}

func TestWhyNamesTheStatement(t *testing.T) {
	c := Classify("SELECT 1; SET STATEMENT max_statement_time=100 FOR DELETE FROM t WHERE id=1")
	if !strings.Contains(c.Statement, "DELETE FROM t") || !strings.Contains(c.Why, "DELETE") {
		t.Errorf("got %+v, want the SET STATEMENT named with its DELETE", c)
	}
	c = Classify("SET PASSWORD FOR 'u'@'%' = PASSWORD('hunter2-secret')")
	if strings.Contains(c.Statement+c.Why, "hunter2") || !strings.Contains(c.Statement, "SET PASSWORD") {
		t.Errorf("got %+v: the statement named without its string literals", c)
	}
	c = Classify("SET @x=1, GLOBAL max_connections=1000")
	if !strings.Contains(c.Why, "GLOBAL") {
		t.Errorf("got %+v, want GLOBAL named", c)
	}
}

func TestUseTarget(t *testing.T) {
	for sql, want := range map[string]string{"USE shop": "shop", "use `my db`;": "my db", "USE /*x*/ shop2": "shop2",
		"USE": "", "USE a b": "", "use `a``b`": "a`b"} {
		if got := UseTarget(sql); got != want {
			t.Errorf("UseTarget(%q) = %q, want %q", sql, got, want)
		}
	}
}

func TestReadingsAreBounded(t *testing.T) {
	sql := "SELECT 1 /*!50001 , 1*/ /*!50002 , 1*/ /*!50003 , 1*/ /*!50004 , 1*/ /*!50005 , 1*/ /*!50006 , 1*/"
	if c := Classify(sql); c.Kind != Unknown {
		t.Errorf("%d executable comment versions: %s, want unknown", 6, c.Kind)
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range append(sqlclasstest.Hostile, "SELECT 1", "/*!", "/*M!", "(((", "SET @@global.", "-- x\nSELECT 1; USE `a``b`", "@", "@@", "SET @'a\\'b' = 1") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		c := Classify(sql)
		if c.Type == "" || c.Kind > LocalInfile {
			t.Fatalf("Classify(%q) = %+v", sql, c)
		}
		if c.ReadOnly && c.Kind > State {
			t.Fatalf("Classify(%q) = %+v: read-only but %s", sql, c, c.Kind)
		}
		if c.Kind > State && c.Why == "" {
			t.Fatalf("Classify(%q) = %+v: no reason", sql, c)
		}
		// A text that is a read must stay one when a write is appended as a second statement.
		if c.Kind <= State {
			if d := Classify(sql + "\n;DELETE FROM t"); d.Kind <= State && !strings.Contains(sql, "--") && !strings.ContainsAny(sql, "#'\"`/\\") {
				t.Fatalf("Classify(%q + DELETE) = %+v", sql, d)
			}
		}
		UseTarget(sql)
	})
}

func BenchmarkClassify(b *testing.B) {
	sql := "SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.region = 'emea' AND o.created_at > '2026-01-01' ORDER BY o.total DESC LIMIT 50 /*route='%2Fv1%2Forders',traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'*/"
	b.ReportAllocs()
	for b.Loop() {
		Classify(sql)
	}
}
