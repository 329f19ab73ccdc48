package harness

import (
	"strings"
	"testing"

	"github.com/srctl/srctl/analyze/fingerprint"
)

func TestCheckReadOnly(t *testing.T) {
	ok := []string{
		"SELECT 1",
		"  (SELECT a FROM t) UNION (SELECT b FROM u) ORDER BY 1;",
		"WITH x AS (SELECT 1) SELECT * FROM x",
		"SET enable_profile = true; SELECT 'DELETE FROM t' -- DROP TABLE t\n",
		"EXPLAIN COSTS SELECT 1",
		"SHOW VARIABLES LIKE 'x'",
		"DESC t",
		"SELECT /*+ SET_VAR(query_timeout=10) */ 1",
		"SELECT 'it''s; DROP TABLE t' AS x",
	}
	for _, sql := range ok {
		if err := CheckReadOnly(sql); err != nil {
			t.Errorf("%q refused: %v", sql, err)
		}
	}
	bad := map[string]string{
		"DELETE FROM t":                         "DELETE",
		"SELECT 1; DROP TABLE t":                "DROP",
		"insert into t select 1":                "INSERT",
		"SET GLOBAL max_connections = 1":        "whole server",
		"SELECT * FROM t INTO OUTFILE '/tmp/x'": "INTO",
		"SELECT * FROM t FOR UPDATE":            "locking",
		"SELECT * FROM t LOCK IN SHARE MODE":    "locking",
		"/*!50000 DROP TABLE t */":              "DROP",
		"WITH x AS (SELECT 1) DELETE FROM t":    "DELETE",
		"CALL do_things()":                      "CALL",
		"REPLACE INTO t VALUES (1)":             "REPLACE",
	}
	for sql, want := range bad {
		if err := CheckReadOnly(sql); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--allow-writes") {
			t.Errorf("%q: %v, want a refusal mentioning %q and --allow-writes", sql, err, want)
		}
	}
}

func TestStatementsAndOrderBy(t *testing.T) {
	if got := fingerprint.Statements("SELECT ';'; SELECT 2 -- ; not here\n; /* ; */ ;"); len(got) != 2 || got[0] != "SELECT ';'" {
		t.Errorf("Statements = %q", got)
	}
	for sql, want := range map[string]bool{
		"SELECT a FROM t ORDER BY a":                               true,
		"SELECT a, row_number() OVER (ORDER BY b) FROM t":          false,
		"SELECT * FROM (SELECT a FROM t ORDER BY a LIMIT 3) x":     false,
		"SELECT 'order by' FROM t":                                 false,
		"(SELECT a FROM t) UNION ALL (SELECT a FROM u) ORDER BY a": true,
		"SET x = 1; SELECT a FROM t ORDER BY a DESC":               true,
		"SELECT `order` FROM t":                                    false,
	} {
		if got := HasTopLevelOrderBy(sql); got != want {
			t.Errorf("HasTopLevelOrderBy(%q) = %v", sql, got)
		}
	}
}
