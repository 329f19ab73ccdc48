//go:build !shadowonly

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/srctl/srctl/analyze"
	"github.com/srctl/srctl/testdouble/trafficgen"
)

var (
	validateDataOnce sync.Once
	validateDataDir  string
	validateDataErr  error
)

// validateFixAt is when the generated data's planted fix lands: the shadow's regression of
// trafficgen.RegressedEndpoint is gone from then on.
var validateFixAt = time.Date(2026, 3, 5, 11, 0, 0, 0, time.UTC)

// validateData generates two hours of mirrored logs and profiles with a fix at 11:00.
func validateData(t *testing.T) string {
	t.Helper()
	validateDataOnce.Do(func() {
		validateDataDir, validateDataErr = os.MkdirTemp("", "srctl-validate-cli-")
		if validateDataErr == nil {
			_, validateDataErr = trafficgen.Generate(trafficgen.Config{Dir: validateDataDir, Queries: 16000, Endpoints: 10, Hours: 2, Seed: 8,
				Quirks: true, ProfileEvery: 10, Start: time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC), FixAt: validateFixAt})
		}
	})
	if validateDataErr != nil {
		t.Fatal(validateDataErr)
	}
	return validateDataDir
}

// TestValidateGolden pins every output format on data with a planted fix.
func TestValidateGolden(t *testing.T) {
	dir := validateData(t)
	logs, profiles := filepath.Join(dir, "shadow-logs"), filepath.Join(dir, "starrocks-query-profiles")
	at := validateFixAt.Format(time.RFC3339)
	checkGoldens(t, dir, []goldenRun{
		{"validate.table.golden", []string{"validate", "--color", "never", "--change-at", at, "--profiles", profiles, logs}},
		{"validate.markdown.golden", []string{"validate", "--format", "markdown", "--top", "6", "--change-at", at, logs}},
		{"validate.csv.golden", []string{"validate", "--format", "csv", "--change-at", at, "--window", "1h", logs}},
		{"validate.json.golden", []string{"validate", "--format", "json", "--change-at", at, "--profiles", profiles, logs}},
		{"validate-endpoint.golden", []string{"validate", "--color", "never", "--target", "shadow", "--endpoint", trafficgen.RegressedEndpoint, "--change-at", at, logs}},
	})
}

// TestValidateFindsThePlantedFix: the fix is the only verdict, on the shadow; swapping the
// windows (as two sets) turns it into the only regression and trips --fail-on regression.
func TestValidateFindsThePlantedFix(t *testing.T) {
	dir := validateData(t)
	logs := filepath.Join(dir, "shadow-logs")
	code, out, stderr := runCLI(context.Background(), "validate", "--format", "json", "--fail-on", "regression,failure,divergence",
		"--change-at", validateFixAt.Format(time.RFC3339), logs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep analyze.ValidateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	verdicts := func(rep *analyze.ValidateReport) []string {
		var vs []string
		for _, e := range rep.Endpoints {
			if e.Verdict == analyze.VerdictRegression || e.Verdict == analyze.VerdictImprovement {
				vs = append(vs, e.Verdict+" "+e.Endpoint+" "+e.Target)
			}
		}
		return vs
	}
	if got, want := strings.Join(verdicts(&rep), "; "), "improvement "+trafficgen.RegressedEndpoint+" shadow"; got != want {
		t.Errorf("verdicts %q, want %q", got, want)
	}
	if rep.Headline.NetMSPerDay >= 0 || rep.Headline.Improved.Endpoints != 1 {
		t.Errorf("headline %+v", rep.Headline)
	}

	// The same logs as two sets, swapped: the fix undone is a regression.
	beforeW := validateFixAt.Add(-time.Hour).Format(time.RFC3339) + "/" + validateFixAt.Format(time.RFC3339)
	afterW := validateFixAt.Format(time.RFC3339) + "/" + validateFixAt.Add(time.Hour).Format(time.RFC3339)
	code, out, stderr = runCLI(context.Background(), "validate", "--format", "json", "--fail-on", "regression",
		"--before", logs, "--before-window", afterW, "--after", logs, "--after-window", beforeW)
	if code != exitRegression {
		t.Fatalf("swapped windows: exit %d, want %d: %s", code, exitRegression, stderr)
	}
	var swapped analyze.ValidateReport
	if err := json.Unmarshal([]byte(out), &swapped); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(verdicts(&swapped), "; "), "regression "+trafficgen.RegressedEndpoint+" shadow"; got != want {
		t.Errorf("swapped: verdicts %q, want %q", got, want)
	}
}

func TestValidateJSONSchema(t *testing.T) {
	dir := validateData(t)
	_, out, _ := runCLI(context.Background(), "validate", "--format", "json", "--change-at", validateFixAt.Format(time.RFC3339), filepath.Join(dir, "shadow-logs"))
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != analyze.ValidateSchema {
		t.Errorf("schema %v", doc["schema"])
	}
	for _, key := range []string{"headline", "before", "after", "settings", "summary", "endpoints", "data_quality"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("report lacks %q", key)
		}
	}
	e := doc["endpoints"].([]any)[0].(map[string]any)
	for _, key := range []string{"endpoint", "target", "verdict", "regressed_at", "improved_at", "quantiles", "centre", "traffic", "errors", "results", "impact_ms_per_day", "why"} {
		if _, ok := e[key]; !ok {
			t.Errorf("endpoint object lacks %q", key)
		}
	}
	q := e["quantiles"].([]any)[3].(map[string]any)
	if q["quantile"] != "p99" || q["verdict"] == nil || q["before_ms"] == nil {
		t.Errorf("quantile object %v", q)
	}
}

func TestValidateUsageErrors(t *testing.T) {
	dir := validateData(t)
	logs := filepath.Join(dir, "shadow-logs")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"validate"}, "name the logs"},
		{[]string{"validate", logs}, "--change-at TIME, or both --before-window and --after-window"},
		{[]string{"validate", "--before", logs}, "--before and --after go together"},
		{[]string{"validate", "--before", logs, "--after", logs, logs}, "use one or the other"},
		{[]string{"validate", "--before", logs, "--after", logs, "--change-at", "1h"}, "--change-at splits one log stream"},
		{[]string{"validate", "--change-at", "yesterday", logs}, `"yesterday" is neither RFC 3339 nor an age`},
		{[]string{"validate", "--window", "1h", "--before-window", "4h/3h", "--after-window", "2h/1h", logs}, "--window is the length"},
		{[]string{"validate", "--before-window", "4h", "--after-window", "2h/1h", logs}, "want START/END"},
		{[]string{"validate", "--before-window", "1h/4h", "--after-window", "2h/1h", logs}, "the start is not before the end"},
		{[]string{"validate", "--before-window", "2h/1h", "--after-window", "3h/2h", logs}, "must end before --after-window"},
		{[]string{"validate", "--change-at", "1h", "--target", "replica", logs}, `--target "replica"`},
		{[]string{"validate", "--change-at", "1h", "--traffic-factor", "1", logs}, "--traffic-factor 1"},
		{[]string{"validate", "--change-at", "1h", "--format", "pdf", logs}, `--format "pdf"`},
		{[]string{"validate", "--change-at", "1h", "--fail-on", "slow", logs}, `--fail-on "slow"`},
		{[]string{"validate", "--change-at", "1h", filepath.Join(dir, "missing")}, "missing"},
		{[]string{"validate", "--before", logs, "--before-window", "2001-01-01T00:00:00Z/2001-01-01T01:00:00Z", "--after", logs}, "--before: no log files"},
	} {
		code, _, stderr := runCLI(context.Background(), tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d naming %q", tc.args[1:], code, stderr, exitUsage, tc.want)
		}
	}
}

// TestValidateIcebergConformance: the generated logs imported into an Iceberg table give the
// same validate report as the JSONL files (the input accounting aside), with the windows
// pruning the table's files.
func TestValidateIcebergConformance(t *testing.T) {
	dir := validateData(t)
	logs, lake, table := filepath.Join(dir, "shadow-logs"), filepath.Join(t.TempDir(), "lake"), "iceberg://local/srctl.proxy_logs"
	if code, out, errOut := runCLI(context.Background(), "lake", "import", "--lake-dir", lake, logs, table); code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	args := []string{"validate", "--format", "json", "--change-at", validateFixAt.Format(time.RFC3339), "--window", "1h"}
	codeF, fromFiles, errF := runCLI(context.Background(), append(args, logs)...)
	codeT, fromTable, errT := runCLI(context.Background(), append(args, "--lake-dir", lake, table)...)
	if codeF != 0 || codeT != 0 {
		t.Fatalf("exit %d from files, %d from the table\n%s\n%s", codeF, codeT, errF, errT)
	}
	var f, tb analyze.ValidateReport
	if err := json.Unmarshal([]byte(fromFiles), &f); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(fromTable), &tb); err != nil {
		t.Fatal(err)
	}
	// The bad line the generator planted is not in the table; everything compared is the same.
	if tb.Before.Executions != f.Before.Executions || tb.After.Executions != f.After.Executions || len(tb.Endpoints) != len(f.Endpoints) {
		t.Fatalf("table: %d/%d executions, %d rows; files: %d/%d, %d rows", tb.Before.Executions, tb.After.Executions, len(tb.Endpoints),
			f.Before.Executions, f.After.Executions, len(f.Endpoints))
	}
	for i := range f.Endpoints {
		a, b := f.Endpoints[i], tb.Endpoints[i]
		if a.Endpoint != b.Endpoint || a.Target != b.Target || a.Verdict != b.Verdict || a.Before.Quantiles != b.Before.Quantiles ||
			a.After.Quantiles != b.After.Quantiles || a.Centre.PValue != b.Centre.PValue {
			t.Errorf("row %d differs: files %s %s %s %+v, table %s %s %s %+v", i, a.Endpoint, a.Target, a.Verdict, a.After.Quantiles,
				b.Endpoint, b.Target, b.Verdict, b.After.Quantiles)
		}
	}
}
