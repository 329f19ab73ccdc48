//go:build !shadowonly

package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/testdouble/trafficgen"
)

// splitBinary is the split build (-tags splitlake, lake_split.go), as productBinary builds it.
func splitBinary(tb testing.TB) string {
	return productBinaryTagged(tb, "splitlake", "")
}

// install puts the binaries of files (name -> built binary) in a new directory, as an install
// would: hard links, or copies across file systems (not symlinks: the kernel resolves
// /proc/self/exe through them, so srctl would look for srctl-lake beside the link's target).
func install(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		dst := filepath.Join(dir, name)
		if os.Link(src, dst) == nil {
			continue
		}
		in, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
		if err == nil {
			_, err = io.Copy(out, in)
			err = errors.Join(err, out.Close())
		}
		in.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runIn runs bin with args and the environment env (PATH is an empty directory unless env sets
// it, so no srctl-lake is found there): output and exit code.
func runIn(t *testing.T, env []string, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + t.TempDir(), "HOME=" + os.Getenv("HOME")}, env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// TestSplitBuild: the split build links no Iceberg code; it runs what needs none itself, hands
// what needs Iceberg to srctl-lake beside it (same arguments, environment, exit code and process),
// says what to install when srctl-lake is missing, warns when the two are of different versions,
// and refuses a split srctl-lake instead of handing on forever.
func TestSplitBuild(t *testing.T) {
	if heavy := linkedHeavy(t, "splitlake"); len(heavy) > 0 {
		t.Errorf("the split build links %d packages of the lake, e.g. %s", len(heavy), heavy[0])
	}
	split, full := splitBinary(t), standardBinary(t)
	alone := filepath.Join(install(t, map[string]string{"srctl": split}), "srctl")
	paired := filepath.Join(install(t, map[string]string{"srctl": split, "srctl-lake": full}), "srctl")
	looping := filepath.Join(install(t, map[string]string{"srctl": split, "srctl-lake": split}), "srctl")

	dir := t.TempDir()
	if _, err := trafficgen.Generate(trafficgen.Config{Dir: dir, Queries: 3000, Endpoints: 5, Hours: 1, Seed: 5,
		ProfileEvery: 10, Start: time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	logs, lake := filepath.Join(dir, "shadow-logs"), filepath.Join(dir, "lake")
	const table = "iceberg://local/srctl.proxy_logs"

	if out, _, code := runIn(t, nil, alone, "version"); code != 0 || !strings.Contains(out, "split build") {
		t.Errorf("version (exit %d) should name the split build: %s", code, out)
	}
	if out, _, code := runIn(t, nil, alone, "lake", "import", "--help"); code != 0 || !strings.Contains(out, "--batch-rows") {
		t.Errorf("lake import --help without srctl-lake (exit %d) should show the same help as srctl-lake:\n%s", code, out)
	}
	diffArgs := []string{"diff", "--workers", "1", "--color", "never", "--format", "json", "--fail-on", "regression"}
	fromFiles, errOut, filesCode := runIn(t, nil, alone, append(diffArgs, logs)...)
	if !strings.Contains(fromFiles, `"schema": "srctl.diff/v1"`) {
		t.Fatalf("diff of JSONL by the split build alone: exit %d\n%s\n%s", filesCode, fromFiles, errOut)
	}
	if _, errOut, code := runIn(t, nil, alone, append(diffArgs, "--lake-dir", lake, table)...); code != exitFailure ||
		!strings.Contains(errOut, "srctl-lake") || !strings.Contains(errOut, "go build -o srctl-lake ./cmd/srctl") {
		t.Errorf("an Iceberg input without srctl-lake: exit %d, want %d and what to install:\n%s", code, exitFailure, errOut)
	}

	// With srctl-lake beside it: the import, then the same diff from the table, exit code included.
	if out, errOut, code := runIn(t, nil, paired, "lake", "import", "--lake-dir", lake, logs, table); code != 0 || !strings.Contains(out, "into "+table) {
		t.Fatalf("lake import through the split build: exit %d\n%s\n%s", code, out, errOut)
	}
	// The environment reaches srctl-lake too: --lake-dir comes from SRCTL_LAKE_DIR here.
	fromTable, errOut, tableCode := runIn(t, []string{"SRCTL_LAKE_DIR=" + lake}, paired, append(diffArgs, table)...)
	if tableCode != filesCode || withoutInputAccounting(fromTable) != withoutInputAccounting(fromFiles) {
		t.Errorf("diff of the table through the split build: exit %d (files: %d)\n%s\n--- from files\n%s\n--- from the table\n%s",
			tableCode, filesCode, errOut, withoutInputAccounting(fromFiles), withoutInputAccounting(fromTable))
	}

	if strings.Contains(errOut, "another version") {
		t.Errorf("srctl-lake of the same build warned of another version:\n%s", errOut)
	}

	// A split srctl of another version: srctl-lake runs the command, and says that it is not the
	// srctl the user ran.
	other := filepath.Join(t.TempDir(), "srctl")
	build := exec.Command("go", "build", "-tags=splitlake", "-ldflags=-s -w -X main.version=v0.0.0-skew", "-o", other, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building a split srctl of another version: %v\n%s", err, out)
	}
	skewed := filepath.Join(install(t, map[string]string{"srctl": other, "srctl-lake": full}), "srctl")
	if out, errOut, code := runIn(t, []string{"SRCTL_LAKE_DIR=" + lake}, skewed, append(diffArgs, table)...); code != tableCode ||
		withoutInputAccounting(out) != withoutInputAccounting(fromTable) || !strings.Contains(errOut, "another version") || !strings.Contains(errOut, "v0.0.0-skew") {
		t.Errorf("a split srctl of another version: exit %d (want %d), want the same report and a warning naming its version:\n%s", code, tableCode, errOut)
	}

	start := time.Now()
	if _, errOut, code := runIn(t, nil, looping, "lake", "import", "--lake-dir", lake, logs, table); code != exitFailure ||
		!strings.Contains(errOut, "also a split build") {
		t.Errorf("a split srctl-lake: exit %d, want %d naming the mistake:\n%s", code, exitFailure, errOut)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("a split srctl-lake took %v to refuse", took)
	}
}

// TestSplitBuildShadowToIceberg: a long-running command handed off keeps its process: srctl shadow
// with an Iceberg log sink, started as the split srctl, is srctl-lake under the same process id,
// serves, stops cleanly on SIGTERM sent to that id, and its rows are in the table.
func TestSplitBuildShadowToIceberg(t *testing.T) {
	pcfg, err := mysql.ParseDSN(testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	paired := filepath.Join(install(t, map[string]string{"srctl": splitBinary(t), "srctl-lake": standardBinary(t)}), "srctl")
	shadow, err := mysqlwire.StartFakeRows(1)
	if err != nil {
		t.Fatal(err)
	}
	defer shadow.Close()
	lake, listen := t.TempDir(), testenv.FreeAddr(t)
	const table = "iceberg://local/srctl.proxy_logs"
	proxy := exec.Command(paired, "shadow", "--listen", listen, "--primary", pcfg.Addr, "--shadow", shadow.Addr(),
		"--log-sink", table, "--lake-dir", lake, "--metrics-addr", "", "--log-level", "warn")
	exited, stderr := startProcess(t, proxy)
	if err := waitListeningOrExit(listen, exited); err != nil {
		t.Fatalf("srctl shadow (split build, Iceberg log sink): %v\n%s", err, stderr)
	}
	if exe, err := os.Readlink("/proc/" + strconv.Itoa(proxy.Process.Pid) + "/exe"); err != nil || filepath.Base(exe) != "srctl-lake" {
		t.Errorf("process %d runs %q (%v), want srctl-lake", proxy.Process.Pid, exe, err)
	}
	selectOneThrough(t, listen, pcfg.DBName, "/split-build")
	if err := stopProcess(proxy, exited, 60*time.Second); err != nil {
		t.Fatalf("the handed-off srctl shadow did not stop cleanly: %v\n%s", err, stderr)
	}
	out, errOut, code := runIn(t, []string{"SRCTL_LAKE_DIR=" + lake}, paired, "diff", "--format", "json", table)
	if code != 0 || !strings.Contains(out, `"/split-build"`) {
		t.Errorf("the table the handed-off proxy wrote: exit %d\n%s\n%s", code, out, errOut)
	}
}
