package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/srctl/srctl/testdouble/restdouble"
	"github.com/srctl/srctl/testdouble/trafficgen"
)

// The input accounting that differs by nature: files and bytes read, and the bad lines that the
// import skipped (the table has none).
var (
	inputAccounting = regexp.MustCompile(`"(files|bytes|elapsed_seconds)": [0-9.e+-]+`)
	badLines        = regexp.MustCompile(`"bad_lines": [0-9]+`)
	dataQualityJSON = regexp.MustCompile(`(?s)"data_quality": \{.*?\n  \}`)
)

// withoutInputAccounting blanks what a diff report says of its input that differs between JSONL
// files and the Iceberg table they were imported into: files, bytes, elapsed time, and the bad
// lines the import skipped.
func withoutInputAccounting(s string) string {
	s = inputAccounting.ReplaceAllString(s, `"$1": 0`)
	s = badLines.ReplaceAllString(s, `"bad_lines": 0`)
	s = dataQualityJSON.ReplaceAllString(s, `"data_quality": {}`)
	s = regexp.MustCompile(`from [0-9,]+ rows, [0-9]+ files?, [0-9.]+ [KMG]?i?B`).ReplaceAllString(s, "from ROWS")
	s = regexp.MustCompile(`(?m)^.*(data quality|Data quality|invalid\\?_json|truncated or invalid JSON|bad line).*$\n?`).ReplaceAllString(s, "")
	return strings.TrimRight(regexp.MustCompile(`\n{3,}`).ReplaceAllString(s, "\n\n"), "\n")
}

// TestDiffIcebergConformance: the same logs, read from JSONL files and from the Iceberg table
// they were imported into, give the same diff (golden), in every output format; only the input
// accounting (files, bytes) differs.
func TestDiffIcebergConformance(t *testing.T) {
	dir := t.TempDir()
	if _, err := trafficgen.Generate(trafficgen.Config{Dir: dir, Queries: 6000, Endpoints: 6, Hours: 2, Seed: 11,
		Quirks: true, ProfileEvery: 10, Start: time.Date(2026, 3, 5, 23, 0, 0, 0, time.UTC)}); err != nil { // crosses midnight: two day partitions
		t.Fatal(err)
	}
	logs, profiles, lake := filepath.Join(dir, "shadow-logs"), filepath.Join(dir, "starrocks-query-profiles"), filepath.Join(dir, "lake")
	table, ptable := "iceberg://local/srctl.proxy_logs", "iceberg://local/srctl.profiles"
	for src, dst := range map[string]string{logs: table, profiles: ptable} {
		code, out, errOut := runCLI(context.Background(), "lake", "import", "--lake-dir", lake, "--batch-rows", "5000", src, dst)
		if code != 0 || !strings.Contains(out, "into "+dst) {
			t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
		}
	}
	norm := withoutInputAccounting
	for _, format := range []string{"json", "table", "markdown", "csv"} {
		args := []string{"diff", "--workers", "1", "--color", "never", "--format", format, "--fail-on", "regression"}
		codeF, fromFiles, errF := runCLI(context.Background(), append(args, "--profiles", profiles, logs)...)
		codeT, fromTable, errT := runCLI(context.Background(), append(args, "--lake-dir", lake, "--profiles", ptable, table)...)
		if codeF != codeT {
			t.Errorf("%s: exit %d from files, %d from the table\n%s\n%s", format, codeF, codeT, errF, errT)
		}
		if norm(fromFiles) != norm(fromTable) {
			t.Errorf("%s output differs between JSONL and Iceberg:\n--- files\n%s\n--- table\n%s", format, norm(fromFiles), norm(fromTable))
		}
		if format == "json" {
			golden(t, "diff-iceberg-conformance.json.golden", norm(fromTable))
		}
	}
	// A second import of the same logs adds nothing.
	code, out, _ := runCLI(context.Background(), "lake", "import", "--lake-dir", lake, "--batch-rows", "5000", logs, table)
	m := regexp.MustCompile(`in (\d+) batches \((\d+) already there\)`).FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] != m[2] {
		t.Errorf("re-import added batches: %s", out)
	}
	if _, err := os.Stat(filepath.Join(lake, "catalog.db")); err != nil {
		t.Error(err)
	}

	// Maintenance changes files and history, not rows: the same report after compact and expire.
	for _, args := range [][]string{
		{"lake", "compact", "--lake-dir", lake, table},
		{"lake", "expire", "--lake-dir", lake, table, "--older-than", "0s", "--retain-last", "1"},
	} {
		code, out, errOut := runCLI(context.Background(), args...)
		if code != 0 || !strings.Contains(out, "->") {
			t.Fatalf("%v: exit %d %s %s", args, code, out, errOut)
		}
		t.Log(strings.TrimSpace(out))
	}
	// Compaction reorders rows, and a report's samples and size examples are the first rows seen
	// (failure examples are the earliest, whatever the order): compare everything else.
	_, after, _ := runCLI(context.Background(), "diff", "--workers", "1", "--format", "json", "--fail-on", "regression",
		"--lake-dir", lake, "--profiles", ptable, table)
	firstSeen := regexp.MustCompile(`(?s)"sample_sql": "[^\n]*"|"examples": \[.*?\]`)
	want, _ := os.ReadFile(filepath.Join("testdata", "diff-iceberg-conformance.json.golden"))
	if firstSeen.ReplaceAllString(norm(after), "") != firstSeen.ReplaceAllString(string(want), "") {
		t.Errorf("after compact and expire the report changed:\n%s", norm(after))
	}
}

func TestLakeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(`{"ts":"2026-03-05T10:00:00Z","query_id":"q","target":"primary"}`+"\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lake", "import", dir}, "iceberg://"},
		{[]string{"lake", "import", dir, "iceberg://local/proxy_logs"}, "<namespace>.<table>"},
		{[]string{"lake", "import", dir, "iceberg://prod/srctl.proxy_logs"}, `catalog "prod" is not configured`},
		{[]string{"lake", "import", dir, "iceberg://local/srctl.queries"}, "must be proxy_logs"},
		{[]string{"lake", "import", filepath.Join(dir, "nope"), "iceberg://local/srctl.proxy_logs"}, "nope"},
		{[]string{"diff", "iceberg://local/x"}, "<namespace>.<table>"},
	} {
		code, _, errOut := runCLI(context.Background(), append(tc.args, "--lake-dir", filepath.Join(dir, "lake"))...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 naming %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestLakeConfigFile: catalogs named in a --lake-config file, found by the URI's catalog name.
func TestLakeConfigFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(`{"ts":"2026-03-05T10:00:00Z","query_id":"q","target":"primary","command":"COM_QUERY"}`+"\n"), 0o644)
	t.Setenv("SRCTL_TEST_LAKE_DIR", filepath.Join(dir, "team-lake"))
	cfg := filepath.Join(dir, "lake.yaml")
	os.WriteFile(cfg, []byte("catalogs:\n  team: {type: sqlite, dir: '${SRCTL_TEST_LAKE_DIR}'}\n"), 0o644)
	code, out, errOut := runCLI(context.Background(), "lake", "import", "--lake-config", cfg, filepath.Join(dir, "a.jsonl"), "iceberg://team/srctl.proxy_logs")
	if code != 0 || !strings.Contains(out, "imported 1 rows") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "team-lake", "catalog.db")); err != nil {
		t.Errorf("the catalog is not where the config put it: %v", err)
	}
	code, _, errOut = runCLI(context.Background(), "lake", "import", "--lake-config", cfg, filepath.Join(dir, "a.jsonl"), "iceberg://prod/srctl.proxy_logs")
	if code != 2 || !strings.Contains(errOut, `no catalog "prod"`) {
		t.Errorf("unknown catalog: exit %d, %s", code, errOut)
	}
}

// TestLakeRESTCatalog: import and diff through a REST catalog named in --lake-config (the
// REST catalog test double over HTTP).
func TestLakeRESTCatalog(t *testing.T) {
	dir := t.TempDir()
	rc, err := restdouble.New(filepath.Join(dir, "rest.db"), "file://"+filepath.Join(dir, "warehouse"))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	srv := httptest.NewServer(rc)
	defer srv.Close()
	if _, err := trafficgen.Generate(trafficgen.Config{Dir: dir, Queries: 2000, Endpoints: 4, Hours: 1, Seed: 3,
		Start: time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "lake.yaml")
	os.WriteFile(cfg, []byte("catalogs:\n  remote: {type: rest, uri: '"+srv.URL+"'}\n"), 0o644)
	table := "iceberg://remote/srctl.proxy_logs"
	code, out, errOut := runCLI(context.Background(), "lake", "import", "--lake-config", cfg, filepath.Join(dir, "shadow-logs"), table)
	if code != 0 || !strings.Contains(out, "imported") {
		t.Fatalf("import through REST: exit %d %s %s", code, out, errOut)
	}
	_, fromFiles, _ := runCLI(context.Background(), "diff", "--workers", "1", "--format", "csv", filepath.Join(dir, "shadow-logs"))
	code, fromREST, errOut := runCLI(context.Background(), "diff", "--workers", "1", "--format", "csv", "--lake-config", cfg, table)
	if code != 0 || fromREST != fromFiles {
		t.Errorf("diff through REST (exit %d, %s):\n%s\nwant\n%s", code, errOut, fromREST, fromFiles)
	}
}
