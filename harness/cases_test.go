package harness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestGlobRegexp(t *testing.T) {
	for _, tc := range []struct {
		glob, path string
		want       bool
	}{
		{"sql/**/*.sql", "sql/a.sql", true},
		{"sql/**/*.sql", "sql/x/y/a.sql", true},
		{"sql/**/*.sql", "sqlx/a.sql", false},
		{"sql/*.sql", "sql/x/a.sql", false},
		{"**/*.sql.tmpl", "a/b.sql.tmpl", true},
		{"q?.sql", "q1.sql", true},
		{"q[0-9].sql", "qa.sql", false},
		{"a.sql", "a_sql", false},
	} {
		re, err := globRegexp(tc.glob)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.MatchString(tc.path); got != tc.want {
			t.Errorf("%s ~ %s = %v", tc.glob, tc.path, got)
		}
	}
	if _, err := globRegexp("sql/[a.sql"); err == nil || !strings.Contains(err.Error(), "sql/[a.sql") {
		t.Errorf("unclosed class: %v", err)
	}
}

func TestTemplatesAndParams(t *testing.T) {
	sets, err := ParamSets([]byte("- {name: big, customer: 42, since: '2026-01-01'}\n- {customer: 7, since: \"2026-02-01\"}\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sets = MergeParams(sets, map[string]any{"limit": int64(10)})
	c := Case{Name: "orders", BaselineSource: "a.sql", CandidateSource: "b.sql.tmpl", Baseline: "SELECT 1",
		Candidate: "SELECT * FROM o WHERE c = {{.customer}} AND d >= {{quote .since}} LIMIT {{.limit}}"}
	cases, err := Expand(c, sets)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || cases[0].Name != "orders[big]" || cases[1].Name != "orders[2]" {
		t.Fatalf("cases %+v", cases)
	}
	if want := "SELECT * FROM o WHERE c = 42 AND d >= '2026-01-01' LIMIT 10"; cases[0].Candidate != want {
		t.Errorf("rendered %q, want %q", cases[0].Candidate, want)
	}
	if cases[0].Baseline != "SELECT 1" {
		t.Errorf("a plain baseline must not be rendered: %q", cases[0].Baseline)
	}
	// A parameter the template needs but the set lacks is an error naming it.
	if _, err := Expand(c, []map[string]any{{"customer": 1}}); err == nil || !strings.Contains(err.Error(), "since") {
		t.Errorf("missing parameter: %v", err)
	}
	if got := sqlQuote(`it's \ here`); got != `'it''s \\ here'` {
		t.Errorf("quote = %s", got)
	}
	for _, bad := range []string{"", "x", "=1"} {
		if _, _, err := ParseParam(bad); err == nil {
			t.Errorf("ParseParam(%q) accepted", bad)
		}
	}
	if _, v, _ := ParseParam("n=5"); v != int64(5) {
		t.Errorf("n=5 -> %#v, want an integer", v)
	}
	if _, err := ParamSets([]byte("[1, 2]"), "p.json"); err == nil || !strings.Contains(err.Error(), "item 1") {
		t.Errorf("list of scalars: %v", err)
	}
}

func TestLoadSuite(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.sql", "SELECT 1")
	write("b.sql.tmpl", "SELECT {{.x}}")
	write("suite.yaml", `cases:
  - name: one
    baseline: a.sql
    candidate: b.sql.tmpl
    params: [{x: 1}, {x: 2}]
    threshold: 10%
    max_cpu_increase: 50
    float_tolerance: 0.001
  - baseline: a.sql
    candidate: a.sql
`)
	cases, err := LoadSuite(filepath.Join(dir, "suite.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 3 || cases[1].Candidate != "SELECT 2" || cases[2].Name != "a" {
		t.Fatalf("cases %+v", cases)
	}
	o := cases[0].Overrides
	if *o.Threshold != 0.10 || *o.MaxCPUIncrease != 0.5 || *o.FloatTolerance != 0.001 || o.MaxMemIncrease != nil {
		t.Errorf("overrides %+v", o)
	}
	th := (&Comparer{cfg: DefaultConfig()}).thresholds(cases[0])
	if th.Latency != 0.10 || th.MaxMemIncrease != DefaultConfig().MaxMemIncrease {
		t.Errorf("thresholds %+v", th)
	}
	for text, want := range map[string]string{
		"cases:\n  - baseline: a.sql\n    candidate: a.sql\n    treshold: 5%\n": "treshold",
		"cases: []\n":                   "no cases",
		"cases:\n  - baseline: a.sql\n": "both baseline and candidate",
		"cases:\n  - baseline: a.sql\n    candidate: a.sql\n    threshold: lots\n": "not a percentage",
		"cases:\n  - baseline: a.sql\n    candidate: missing.sql\n":                "missing.sql",
	} {
		write("bad.yaml", text)
		if _, err := LoadSuite(filepath.Join(dir, "bad.yaml")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("suite %q: %v, want an error naming %q", text, err, want)
		}
	}
}

// TestGitSources runs against a real git repository made for the test.
func TestGitSources(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed: ", err)
	}
	dir := t.TempDir()
	run := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("init", "-q", "-b", "main")
	write("sql/orders.sql", "SELECT 1")
	write("sql/deep/users.sql", "SELECT 2")
	write("docs/readme.md", "x")
	run("add", ".")
	run("commit", "-qm", "base")
	run("checkout", "-qb", "change")
	write("sql/orders.sql", "SELECT 1 -- v2")
	write("sql/deep/new.sql", "SELECT 3")
	write("docs/readme.md", "y")
	run("add", ".")
	run("commit", "-qm", "change")
	write("sql/deep/users.sql", "SELECT 2 -- uncommitted") // working tree changes count too

	r := SourceReader{Dir: dir}
	ctx := context.Background()
	files, err := r.ChangedFiles(ctx, "main", []string{"sql/**/*.sql"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(files, ",") != "sql/deep/new.sql,sql/deep/users.sql,sql/orders.sql" {
		t.Errorf("changed files %q", files)
	}
	if got, err := r.GitShow(ctx, "main", "sql/orders.sql"); err != nil || got != "SELECT 1" {
		t.Errorf("git show: %q %v", got, err)
	}
	if _, err := r.GitShow(ctx, "main", "sql/deep/new.sql"); !IsNotInRevision(err) {
		t.Errorf("a new file: %v, want not-in-revision", err)
	}
	if _, err := r.ChangedFiles(ctx, "no-such-branch", nil); err == nil || !strings.Contains(err.Error(), "no-such-branch") {
		t.Errorf("bad revision: %v", err)
	}
}

func TestSetStatement(t *testing.T) {
	for kv, want := range map[string]string{
		"query_timeout=30":          "SET query_timeout = 30",
		"enable_profile = true":     "SET enable_profile = true",
		"sql_mode=ANSI_QUOTES":      "SET sql_mode = 'ANSI_QUOTES'",
		"time_zone='+00:00'":        "SET time_zone = '+00:00'",
		"resource_group=it's":       "SET resource_group = 'it''s'",
		"pipeline_dop=0":            "SET pipeline_dop = 0",
		"enable_query_cache=FALSE ": "SET enable_query_cache = FALSE",
	} {
		if got, err := SetStatement(kv); err != nil || got != want {
			t.Errorf("SetStatement(%q) = %q, %v; want %q", kv, got, err, want)
		}
	}
	for _, bad := range []string{"x", "=1", "a b=1", "x;drop=1"} {
		if _, err := SetStatement(bad); err == nil {
			t.Errorf("SetStatement(%q) accepted", bad)
		}
	}
}
