//go:build !shadowonly

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/internal/testenv"
)

// compareTable creates a small table for the CLI tests, unique to this process.
func compareTable(t *testing.T) (dsn, table string) {
	t.Helper()
	dsn = testenv.MySQLDSN(t)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table = fmt.Sprintf("srctl_cli_%d", os.Getpid())
	for _, st := range []string{
		"DROP TABLE IF EXISTS " + table,
		"CREATE TABLE " + table + " (id INT PRIMARY KEY, v INT)",
		"INSERT INTO " + table + " SELECT seq, seq % 10 FROM seq_1_to_500",
	} {
		if _, err := db.Exec(st); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if db, err := sql.Open("mysql", dsn); err == nil {
			db.Exec("DROP TABLE IF EXISTS " + table)
			db.Close()
		}
	})
	return dsn, table
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCompareBaselineCLI runs the command end to end: exit bits, the text summary, the JSON
// and Markdown reports and $GITHUB_STEP_SUMMARY.
func TestCompareBaselineCLI(t *testing.T) {
	dsn, table := compareTable(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.sql":        "SELECT id, v FROM " + table + " WHERE v = 3",
		"same.sql":     "SELECT id, v FROM " + table + " WHERE v IN (3)",
		"changed.sql":  "SELECT id, IF(id = 3, 99, v) AS v FROM " + table + " WHERE v = 3",
		"broken.sql":   "SELECT id, nope FROM " + table,
		"write.sql":    "DELETE FROM " + table,
		"summary.md":   "# earlier step\n",
		"t.sql.tmpl":   "SELECT id, v FROM " + table + " WHERE v = {{.v}}",
		"params.yaml":  "- {v: 3}\n- {v: 4}\n",
		"suite.yaml":   "cases:\n  - name: s1\n    baseline: a.sql\n    candidate: same.sql\n",
		"badsuite.yml": "cases:\n  - baseline: a.sql\n    candidat: same.sql\n",
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	t.Setenv("GITHUB_STEP_SUMMARY", p("summary.md"))
	t.Setenv("SRCTL_DSN", dsn)
	fast := []string{"--quiet", "--iterations", "4", "--warmup", "0"}
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"pass", []string{"--baseline", p("a.sql"), "--candidate", p("same.sql")}, 0, "same 50 rows"},
		{"changed row", []string{"--baseline", p("a.sql"), "--candidate", p("changed.sql")}, 4, "changed  (3, 3) → (3, 99)"},
		{"candidate error", []string{"--baseline", p("a.sql"), "--candidate", p("broken.sql")}, 32, "Unknown column 'nope'"},
		{"template sets", []string{"--baseline", p("a.sql"), "--candidate", p("t.sql.tmpl"), "--params", p("params.yaml")}, 4, "t[2]  FAIL (result difference)"},
		{"suite", []string{"--suite", p("suite.yaml")}, 0, "s1  PASS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(context.Background(), append(append([]string{"compare-baseline"}, fast...), tc.args...)...)
			if code != tc.wantCode || !strings.Contains(out, tc.wantOut) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s\n%s", code, tc.wantCode, tc.wantOut, out, errOut)
			}
		})
	}

	// Reports: JSON to a file, Markdown to a file and appended to the step summary.
	code, _, errOut := runCLI(context.Background(), append(append([]string{"compare-baseline"}, fast...),
		"--baseline", p("a.sql"), "--candidate", p("changed.sql"), "--json", p("r.json"), "--report-md", p("r.md"))...)
	if code != 4 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Schema string `json:"schema"`
		Exit   int    `json:"exit_code"`
		DSN    string `json:"dsn"`
		Cases  []struct {
			Result struct {
				Changed int `json:"changed"`
			} `json:"result"`
		} `json:"cases"`
	}
	data, _ := os.ReadFile(p("r.json"))
	if err := json.Unmarshal(data, &rep); err != nil || rep.Schema != "srctl.compare-baseline/v1" || rep.Exit != 4 || rep.Cases[0].Result.Changed != 1 {
		t.Errorf("JSON report %+v: %v", rep, err)
	}
	md, _ := os.ReadFile(p("r.md"))
	summary, _ := os.ReadFile(p("summary.md"))
	if !strings.Contains(string(md), "| changed | ❌ result difference |") {
		t.Errorf("Markdown report:\n%s", md)
	}
	if !strings.HasPrefix(string(summary), "# earlier step\n") || !strings.HasSuffix(string(summary), string(md)) {
		t.Errorf("step summary not appended to:\n%s", summary)
	}

	// Usage errors exit 1 and say what was wrong, before any query runs.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--baseline", p("a.sql")}, "--baseline and --candidate go together"},
		{[]string{"--baseline", p("a.sql"), "--candidate", p("write.sql")}, "pass --allow-writes"},
		{[]string{"--suite", p("badsuite.yml")}, "candidat"},
		{[]string{"--baseline", p("a.sql"), "--candidate", p("missing.sql")}, "missing.sql"},
		{[]string{"--baseline", p("a.sql"), "--candidate", p("a.sql"), "--threshold", "lots"}, "--threshold"},
		{[]string{"--baseline", p("a.sql"), "--candidate", p("a.sql"), "--iterations", "1"}, "--iterations 1"},
		{[]string{"--suite", p("suite.yaml"), "--baseline", p("a.sql")}, "choose one input"},
		{[]string{"--baseline", p("a.sql"), "--candidate", p("t.sql.tmpl")}, "map has no entry for key \"v\""},
		{[]string{"--baseline", p("a.sql"), "--candidate", p("a.sql"), "--fail-on", "rows"}, "--fail-on"},
	} {
		code, _, errOut := runCLI(context.Background(), append([]string{"compare-baseline"}, tc.args...)...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 1 naming %q", tc.args, code, errOut, tc.want)
		}
	}
	// An unreachable server is an infrastructure error (1), and the password is not printed.
	code, out, errOut := runCLI(context.Background(), "compare-baseline", "--dsn", "root:hunter2@tcp(127.0.0.1:1)/test",
		"--baseline", p("a.sql"), "--candidate", p("a.sql"))
	if code != 1 || strings.Contains(out+errOut, "hunter2") || !strings.Contains(errOut, "root:***@") {
		t.Errorf("unreachable server: exit %d, %q %q", code, out, errOut)
	}
}

// TestCompareBaselineGitBase: --git-base and --changed-since take baselines from git.
func TestCompareBaselineGitBase(t *testing.T) {
	dsn, table := compareTable(t)
	dir := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	writeFiles(t, dir, map[string]string{"sql/q.sql": "SELECT id FROM " + table + " WHERE v = 1", "sql/r.sql": "SELECT 1 AS x"})
	git("add", ".")
	git("commit", "-qm", "base")
	git("checkout", "-qb", "feature")
	writeFiles(t, dir, map[string]string{"sql/q.sql": "SELECT id FROM " + table + " WHERE v = 2", "sql/new.sql": "SELECT 2 AS y"})
	t.Chdir(dir)
	code, out, errOut := runCLI(context.Background(), "compare-baseline", "--dsn", dsn, "--quiet", "--iterations", "4",
		"--git-base", "main", "sql/q.sql")
	if code != 4 || !strings.Contains(out, "git:main:sql/q.sql → sql/q.sql") || !strings.Contains(out, "50 missing") {
		t.Errorf("--git-base: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(context.Background(), "compare-baseline", "--dsn", dsn, "--iterations", "4",
		"--changed-since", "main", "--include", "sql/**/*.sql")
	// q.sql changed (compared); new.sql has no baseline (skipped, said); r.sql did not change.
	if code != 4 || !strings.Contains(out, "1 case(s)") || !strings.Contains(errOut, "sql/new.sql") || strings.Contains(out, "r.sql") {
		t.Errorf("--changed-since: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestCompareBaselineHelpEndsWithExitTable(t *testing.T) {
	code, out, _ := runCLI(context.Background(), "compare-baseline", "--help")
	if code != 0 || !strings.Contains(out, "64  plan change (only with --fail-on plan)") || !strings.Contains(out, "SRCTL_DSN") {
		t.Errorf("help (exit %d):\n%s", code, out)
	}
	long := newCompareBaselineCmd(&globals{}).Long
	if !strings.HasSuffix(strings.TrimSpace(long), "64  plan change (only with --fail-on plan)") {
		t.Error("the command's description must end with the exit-status table")
	}
}
