//go:build !shadowonly

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/srctl/srctl/analyze"
	"github.com/srctl/srctl/testdouble/trafficgen"
)

var (
	diffDataOnce sync.Once
	diffDataDir  string
	diffDataErr  error
)

// diffData generates one small, deterministic dataset for the CLI tests.
func diffData(t *testing.T) string {
	t.Helper()
	diffDataOnce.Do(func() {
		diffDataDir, diffDataErr = os.MkdirTemp("", "srctl-diff-cli-")
		if diffDataErr == nil {
			_, diffDataErr = trafficgen.Generate(trafficgen.Config{Dir: diffDataDir, Queries: 12000, Endpoints: 10, Hours: 2, Seed: 5,
				Quirks: true, ProfileEvery: 10, Start: time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)})
		}
	})
	if diffDataErr != nil {
		t.Fatal(diffDataErr)
	}
	return diffDataDir
}

var elapsed = regexp.MustCompile(`"elapsed_seconds": [0-9.e+-]+`)

// stable removes what changes from run to run: the data directory and the elapsed time.
func stable(dir, out string) string {
	out = strings.ReplaceAll(out, dir, "DATA")
	return elapsed.ReplaceAllString(out, `"elapsed_seconds": 0`)
}

// TestDiffGolden pins every output format. One worker makes the sample SQL of each endpoint
// (the first row the classifier sees) the same on every run.
func TestDiffGolden(t *testing.T) {
	dir := diffData(t)
	logs, profiles := filepath.Join(dir, "shadow-logs"), filepath.Join(dir, "starrocks-query-profiles")
	checkGoldens(t, dir, []goldenRun{
		{"diff.table.golden", []string{"diff", "--workers", "1", "--color", "never", "--profiles", profiles, logs}},
		{"diff.markdown.golden", []string{"diff", "--workers", "1", "--format", "markdown", "--top", "5", logs}},
		{"diff.csv.golden", []string{"diff", "--workers", "1", "--format", "csv", logs}},
		{"diff.json.golden", []string{"diff", "--workers", "1", "--format", "json", "--profiles", profiles, logs}},
		{"diff-endpoint.golden", []string{"diff", "--workers", "1", "--color", "never", "--endpoint", trafficgen.RegressedEndpoint, "--profiles", profiles, logs}},
	})
}

// goldenRun is a command line whose standard output is pinned in testdata/name.
type goldenRun struct {
	name string
	args []string
}

// checkGoldens runs each command (exit 0 wanted) and compares its output, with dir and the
// elapsed time made stable, against its golden file.
func checkGoldens(t *testing.T, dir string, runs []goldenRun) {
	t.Helper()
	for _, tc := range runs {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(context.Background(), tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden(t, tc.name, stable(dir, out))
		})
	}
}

func TestDiffJSONSchema(t *testing.T) {
	dir := diffData(t)
	_, out, _ := runCLI(context.Background(), "diff", "--format", "json", filepath.Join(dir, "shadow-logs"))
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != analyze.ReportSchema {
		t.Errorf("schema %v", doc["schema"])
	}
	eps := doc["endpoints"].([]any)
	e := eps[0].(map[string]any)
	for _, key := range []string{"endpoint", "pairs", "primary", "shadow", "delta_pct", "ci_pct", "p_value", "verdict", "impact_ms",
		"shadow_only_failures", "primary_only_failures", "size_divergence", "why"} {
		if _, ok := e[key]; !ok {
			t.Errorf("endpoint object lacks %q", key)
		}
	}
	for _, key := range []string{"p50", "p90", "p95", "p99"} {
		if _, ok := e["primary"].(map[string]any)[key]; !ok {
			t.Errorf("primary lacks %q", key)
		}
	}
}

func TestDiffFailOnExitBits(t *testing.T) {
	dir := diffData(t)
	logs := filepath.Join(dir, "shadow-logs")
	for _, tc := range []struct {
		failOn string
		want   int
	}{
		{"", 0}, {"regression", 4}, {"failure", 8}, {"divergence", 16}, {"regression,failure,divergence", 28},
	} {
		code, _, stderr := runCLI(context.Background(), "diff", "--format", "csv", "--fail-on", tc.failOn, logs)
		if code != tc.want {
			t.Errorf("--fail-on %q: exit %d, want %d (%s)", tc.failOn, code, tc.want, stderr)
		}
	}
	// A/A data trips nothing.
	aa := t.TempDir()
	if _, err := trafficgen.Generate(trafficgen.Config{Dir: aa, Queries: 5000, Endpoints: 8, Seed: 9, AA: true, Start: time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCLI(context.Background(), "diff", "--color", "never", "--fail-on", "regression,failure,divergence", aa); code != 0 {
		t.Errorf("A/A: exit %d\n%s%s", code, out, stderr)
	}
}

func TestDiffStrictAndBadInput(t *testing.T) {
	dir := t.TempDir()
	rows := `{"ts":"2026-03-05T10:00:00Z","query_id":"a","target":"primary","command":"COM_QUERY","query_text":"SELECT 1","duration_ms":1,"success":true}
{"ts":"2026-03-05T10:00:00Z","query_id":"a","target":"shadow","command":"COM_QUERY","query_text":"SELECT 1","duration_ms":1,"success":true}
{"ts":"2026-03-05T10:00:00Z","query_id":"b","tar
`
	if err := os.WriteFile(filepath.Join(dir, "x.jsonl"), []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(context.Background(), "diff", "--color", "never", dir)
	if code != 0 || !strings.Contains(out, "invalid_json: 1") || !strings.Contains(out, "x.jsonl:3") {
		t.Errorf("bad line: exit %d, output must count it with file:line\n%s", code, out)
	}
	code, _, stderr := runCLI(context.Background(), "diff", "--strict", dir)
	if code != 1 || !strings.Contains(stderr, "1 bad input") {
		t.Errorf("--strict: exit %d (%s), want 1", code, stderr)
	}
}

func TestDiffUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"diff"}, "name at least one log input"},
		{[]string{"diff", "/no/such/logs"}, "/no/such/logs"},
		{[]string{"diff", "--threshold", "lots", dir}, `--threshold "lots"`},
		{[]string{"diff", "--alpha", "2", dir}, "--alpha 2"},
		{[]string{"diff", "--min-delta", "fast", dir}, `--min-delta "fast"`},
		{[]string{"diff", "--min-delta", "-1ms", dir}, `--min-delta "-1ms"`},
		{[]string{"diff", "--since", "yesterday", dir}, `"yesterday"`},
		{[]string{"diff", "--since", "1h", "--until", "2h", dir}, "before --since"},
		{[]string{"diff", "--fail-on", "slowness", dir}, `--fail-on "slowness"`},
		{[]string{"diff", "--group-by", "user", dir}, `--group-by "user"`},
		{[]string{"diff", "--endpoints", "testdata/bad-endpoint-rules.yaml", dir}, "bad-endpoint-rules.yaml"},
		{[]string{"diff", dir}, "no log files"},
	} {
		code, _, stderr := runCLI(context.Background(), tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"6h": now.Add(-6 * time.Hour), "90m": now.Add(-90 * time.Minute), "2d": now.Add(-48 * time.Hour),
		"2026-03-01T00:00:00Z": time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, err := parseWhen(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

// TestDiffCountsBadNumbers: durations that are not numbers a query can take (1e308, 1e400,
// NaN, negative, a string) are bad values counted with file and line; the report is still
// written, in every format, and the exit code is 0.
func TestDiffCountsBadNumbers(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	row := func(id, target string, dur string) {
		fmt.Fprintf(&b, `{"ts":"2026-03-05T10:00:01Z","query_id":%q,"target":%q,"command":"COM_QUERY","query_text":"SELECT 1 /*route='/x'*/","duration_ms":%s,"bytes_recv":50,"success":true,"client_addr":"10.0.0.1:1"}`+"\n", id, target, dur)
	}
	for i := range 40 {
		id := fmt.Sprintf("q%02d", i)
		row(id, "primary", "2.5")
		row(id, "shadow", "2.6")
	}
	for i, bad := range []string{"1e308", "1e400", "NaN", "-3", `"fast"`, "1e10", "-0.0001"} {
		id := fmt.Sprintf("bad%d", i)
		row(id, "primary", "2.5")
		row(id, "shadow", bad)
	}
	if err := os.WriteFile(filepath.Join(dir, "logs.jsonl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"json", "table", "markdown", "csv"} {
		code, out, errOut := runCLI(context.Background(), "diff", "--format", format, "--color", "never", dir)
		if code != 0 || out == "" {
			t.Fatalf("--format %s: exit %d\n%s\n%s", format, code, out, errOut)
		}
		if format != "json" {
			continue
		}
		var rep struct {
			Summary struct {
				BadLines int64 `json:"bad_lines"`
			} `json:"summary"`
			DataQuality struct {
				Counts   map[string]int64 `json:"counts"`
				Examples map[string][]struct {
					File string `json:"file"`
					Line int    `json:"line"`
				} `json:"examples"`
			} `json:"data_quality"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("the JSON report does not parse: %v\n%s", err, out)
		}
		if rep.Summary.BadLines != 7 {
			t.Errorf("bad lines %d, want 7 (data quality %v)", rep.Summary.BadLines, rep.DataQuality.Counts)
		}
		found := false
		for _, ex := range rep.DataQuality.Examples {
			for _, e := range ex {
				found = found || strings.HasSuffix(e.File, "logs.jsonl") && e.Line > 80
			}
		}
		if !found {
			t.Errorf("no bad value named with its file and line: %+v", rep.DataQuality.Examples)
		}
	}
}
