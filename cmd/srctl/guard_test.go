package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srctl/srctl/analyze/sqlclass/sqlclasstest"
	"github.com/srctl/srctl/harness"
	"github.com/srctl/srctl/internal/testenv"
)

// TestCompareBaselineRefusesHostileSQL runs compare-baseline with every statement of the
// hostile corpus as the candidate, against a database holding what they aim at, with a login
// that could run them (root, multiStatements=true): each run is refused before any query, the
// refusal names the statement and --allow-writes, and the server is unchanged.
func TestCompareBaselineRefusesHostileSQL(t *testing.T) {
	const dbName = "srctl_guard_cb"
	dsn := testenv.MySQLDSN(t)
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	testenv.GuardFixture(t, admin, dbName)
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + dbName) })
	before := testenv.ServerState(t, admin, dbName)

	cfg, err := harness.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = dbName
	cfg.MultiStatements = true
	t.Setenv("SRCTL_DSN", cfg.FormatDSN())
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"base.sql": "SELECT COUNT(*) FROM t"})
	for i, stmt := range sqlclasstest.Hostile {
		name := fmt.Sprintf("c%d.sql", i)
		writeFiles(t, dir, map[string]string{name: stmt})
		code, out, errOut := runCLI(context.Background(), "compare-baseline", "--quiet", "--iterations", "2", "--warmup", "0",
			"--baseline", filepath.Join(dir, "base.sql"), "--candidate", filepath.Join(dir, name))
		if code != 1 || !strings.Contains(errOut, "refusing") || !strings.Contains(errOut, "--allow-writes") {
			t.Errorf("%q: exit %d, want 1 with a refusal naming --allow-writes:\n%s\n%s", stmt, code, out, errOut)
		}
	}
	if after := testenv.ServerState(t, admin, dbName); after != before {
		t.Errorf("the server changed:\n%s", testenv.StateChanges(before, after))
	}
}

// TestReadOnlySessionsStopWritesThatPassTheGuard: behind the lexer, compare-baseline's
// sessions on MariaDB are READ ONLY transactions (a write that got past the guard fails with
// 1792), and the report says when the login itself could write.
func TestReadOnlySessionsStopWritesThatPassTheGuard(t *testing.T) {
	const dbName = "srctl_guard_ro"
	dsn := testenv.MySQLDSN(t)
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	testenv.GuardFixture(t, admin, dbName)
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + dbName) })
	before := testenv.ServerState(t, admin, dbName)

	cfg := harness.DefaultConfig()
	cfg.ReadOnly, cfg.Iterations, cfg.Warmup = true, 2, 0
	ctx := context.Background()
	c, err := harness.NewComparer(ctx, admin, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res := c.Compare(ctx, harness.Case{Name: "w", Baseline: "SELECT COUNT(*) FROM " + dbName + ".t",
		Candidate: "DELETE FROM " + dbName + ".t"})
	if res.Candidate == nil || !strings.Contains(res.Candidate.Message, "READ ONLY") {
		t.Errorf("a DELETE run in a read-only session: %+v, want error 1792 (READ ONLY transaction)", res.Candidate)
	}
	if after := testenv.ServerState(t, admin, dbName); after != before {
		t.Errorf("the server changed:\n%s", testenv.StateChanges(before, after))
	}
	rep := harness.NewReport(c, dsn)
	if len(rep.LoginWrites) == 0 || !strings.Contains(strings.Join(rep.LoginWrites, ";"), "ALL PRIVILEGES") {
		t.Errorf("root's grants: %q, want ALL PRIVILEGES named", rep.LoginWrites)
	}
	var text strings.Builder
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "this login can write") {
		t.Errorf("the report does not warn about the login:\n%s", text.String())
	}
}
