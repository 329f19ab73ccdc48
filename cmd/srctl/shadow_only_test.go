package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
)

// heavyModules are what the shadow-only build exists to leave out: the lake's table format, its
// columnar encodings and its catalogs' databases. Their package initialisation alone costs
// ~50 MB of RSS (README: "srctl shadow" measurements).
var heavyModules = []string{"github.com/apache/iceberg-go", "github.com/apache/arrow-go", "github.com/substrait-io/",
	"modernc.org/sqlite", "github.com/jackc/pgx", "github.com/uptrace/bun"}

// linkedHeavy lists the packages of heavyModules that `go build -tags TAGS ./cmd/srctl` links.
func linkedHeavy(t *testing.T, tags string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-tags="+tags, "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps (tags %q): %v", tags, err)
	}
	var heavy []string
	for _, pkg := range strings.Fields(string(out)) {
		if slices.ContainsFunc(heavyModules, func(m string) bool { return strings.HasPrefix(pkg, m) }) {
			heavy = append(heavy, pkg)
		}
	}
	return heavy
}

// TestShadowOnlyBuild checks the shadow-only build (-tags shadowonly): it links none of the
// lake's heavy code, it has srctl shadow and the probe but no other command, it refuses an
// Iceberg log sink with a usage error that says what to do instead, and, as a process between
// the local MariaDB and a shadow test double, it answers, mirrors and logs both sides as JSONL
// like the full srctl, then stops cleanly on SIGTERM.
func TestShadowOnlyBuild(t *testing.T) {
	if heavy := linkedHeavy(t, "shadowonly"); len(heavy) > 0 {
		t.Errorf("the shadow-only build links %d packages it should not, e.g. %s", len(heavy), heavy[0])
	}
	if heavy := linkedHeavy(t, ""); len(heavy) == 0 {
		t.Errorf("the full build links none of %q: the check above would pass whatever the tags", heavyModules)
	}
	pcfg, err := mysql.ParseDSN(testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := shadowOnlyBinary(t)
	runBin := func(args ...string) (string, int) {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	if out, code := runBin("--help"); code != 0 || !strings.Contains(out, "shadow-only build") ||
		!strings.Contains(out, "shadow      MySQL-protocol proxy") || strings.Contains(out, "collect") {
		t.Errorf("--help (exit %d) should present the shadow-only build, srctl shadow and no collect:\n%s", code, out)
	}
	if out, code := runBin("version"); code != 0 || !strings.Contains(out, "shadow-only build)") {
		t.Errorf("version (exit %d) should name the shadow-only build: %s", code, out)
	}
	if out, code := runBin("collect", "--help"); code == 0 || !strings.Contains(out, `unknown command "collect"`) {
		t.Errorf("collect in the shadow-only build: exit %d, want an unknown command:\n%s", code, out)
	}
	if out, code := runBin("shadow", "--primary", "127.0.0.1:1", "--shadow", "127.0.0.1:2", "--metrics-addr", "",
		"--log-sink", "iceberg://local/srctl.proxy_logs"); code != exitUsage || !strings.Contains(out, "shadow-only build") || !strings.Contains(out, "srctl lake import") {
		t.Errorf("an Iceberg log sink: exit %d, want %d and what to do instead:\n%s", code, exitUsage, out)
	}
	if out, code := runBin("shadow", "--primary", "127.0.0.1:1", "--shadow", "127.0.0.1:2", "--lake-dir", t.TempDir()); code != exitUsage || !strings.Contains(out, "unknown flag: --lake-dir") {
		t.Errorf("--lake-dir: exit %d, want %d (no Iceberg flags in this build):\n%s", code, exitUsage, out)
	}

	shadow, err := mysqlwire.StartFakeRows(1)
	if err != nil {
		t.Fatal(err)
	}
	defer shadow.Close()
	logs, listen := t.TempDir(), testenv.FreeAddr(t)
	proxy := exec.Command(bin, "shadow", "--listen", listen, "--primary", pcfg.Addr, "--shadow", shadow.Addr(),
		"--log-sink", logs, "--metrics-addr", "", "--log-level", "warn")
	exited, stderr := startProcess(t, proxy)
	if err := waitListeningOrExit(listen, exited); err != nil {
		t.Fatalf("srctl shadow (shadow-only build): %v\n%s", err, stderr)
	}
	rss := testenv.ProcessRSS(t, proxy.Process.Pid)

	selectOneThrough(t, listen, pcfg.DBName, "/shadow-only")
	if err := stopProcess(proxy, exited, 60*time.Second); err != nil {
		t.Fatalf("srctl shadow (shadow-only build) did not stop cleanly: %v\n%s", err, stderr)
	}

	var targets []string
	err = filepath.WalkDir(logs, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".jsonl") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r lakehouse.ProxyLogRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				return err
			}
			if r.Endpoint == "/shadow-only" && r.Success {
				targets = append(targets, r.Target)
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(targets)
	if !slices.Equal(targets, []string{"primary", "shadow"}) {
		t.Errorf("log rows of the query, by target: %q, want one answered by the primary and its copy on the shadow\n%s", targets, stderr.String())
	}
	t.Logf("shadow-only build: RSS %.1f MiB once listening", float64(rss)/(1<<20))
}

// selectOneThrough runs SELECT 1, tagged with route, through a proxy listening on listen.
func selectOneThrough(t *testing.T, listen, dbName, route string) {
	t.Helper()
	db, err := sql.Open("mysql", "root@tcp("+listen+")/"+dbName)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var one int
	if err := db.QueryRow("SELECT 1 /*route='" + route + "'*/").Scan(&one); err != nil || one != 1 {
		t.Fatalf("a query through the proxy on %s: %v (got %d)", listen, err, one)
	}
}
