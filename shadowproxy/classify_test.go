package shadowproxy

import "testing"

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		sql, typ string
		kind     Kind
	}{
		{"SELECT 1", "select", KindRead},
		{"  /* hint */ select * from t /*route='/x'*/", "select", KindRead},
		{"(SELECT 1) UNION (SELECT 2)", "select", KindRead},
		{"SELECT * FROM t FOR UPDATE", "select", KindWrite},
		{"SELECT a INTO OUTFILE '/tmp/x' FROM t", "select", KindWrite},
		{"WITH x AS (SELECT 1) SELECT * FROM x", "select", KindRead},
		{"WITH x AS (SELECT 1) DELETE FROM t", "delete", KindWrite},
		{"SHOW TABLES", "show", KindRead},
		{"desc t", "describe", KindRead},
		{"EXPLAIN SELECT 1", "explain", KindRead},
		{"EXPLAIN ANALYZE SELECT 1", "explain", KindRead}, // runs the SELECT: a read
		{"SET STATEMENT max_statement_time=100 FOR DELETE FROM t", "delete", KindWrite},
		{"SET NAMES utf8mb4", "set", KindState},
		{"SET @@session.query_timeout = 10", "set", KindState},
		{"SET GLOBAL max_connections = 10", "set", KindWrite},
		{"set @@global.x = 1", "set", KindWrite},
		{"USE shop", "use", KindState},
		{"BEGIN", "transaction", KindState},
		{"INSERT INTO t VALUES (1)", "insert", KindWrite},
		{"LOAD DATA LOCAL INFILE '/x' INTO TABLE t", "load", KindLocalInfile},
		{"LOAD DATA LOW_PRIORITY LOCAL INFILE '/x' INTO TABLE t", "load", KindLocalInfile},
		{"LOAD DATA INFILE '/x' INTO TABLE t", "load", KindWrite},
		{"SELECT 1; SELECT 2", "select", KindRead},
		{"SELECT 1; DELETE FROM t", "select", KindWrite},
		{"SET @a = 1; SELECT @a", "set", KindState},
		{"SELECT ';' FROM t", "select", KindRead},
		{"/*!40101 SET NAMES utf8 */", "set", KindState},
		{"-- just a comment", "other", KindRead},
		{"VACUUM", "other", KindUnknown},
	} {
		typ, kind := classify(tc.sql)
		if typ != tc.typ || kind != tc.kind {
			t.Errorf("classify(%q) = %s, %s; want %s, %s", tc.sql, typ, kind, tc.typ, tc.kind)
		}
	}
}

func TestUseTarget(t *testing.T) {
	for sql, want := range map[string]string{"USE shop": "shop", "use `my db`;": "my db", "USE /*x*/ shop2": "shop2", "USE": ""} {
		if got := useTarget(sql); got != want {
			t.Errorf("useTarget(%q) = %q, want %q", sql, got, want)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"SELECT 1", "/*!", "LOAD DATA LOCAL", "(((", "SET @@global.", "-- x\nSELECT 1; USE `a``b`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		typ, kind := classify(sql)
		if typ == "" || kind > KindLocalInfile || kind.String() == "" {
			t.Fatalf("classify(%q) = %q, %d", sql, typ, kind)
		}
		useTarget(sql)
	})
}
