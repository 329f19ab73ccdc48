//go:build !shadowonly

package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/analyze/sqlclass/sqlclasstest"
	"github.com/srctl/srctl/harness"
	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/shadowproxy"
)

// guardDatabase creates the hostile corpus's targets in database name on the local server and
// returns its DSN, an admin connection and the server's state before the test.
func guardDatabase(t *testing.T, name string) (dsn string, admin *sql.DB, before string) {
	t.Helper()
	dsn = testenv.MySQLDSN(t)
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	testenv.GuardFixture(t, admin, name)
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name)
		admin.Close()
	})
	return dsn, admin, testenv.ServerState(t, admin, name)
}

// TestCompareBaselineRefusesHostileSQL runs compare-baseline with every statement of the
// hostile corpus as the candidate, against a database holding what they aim at, with a login
// that could run them (root, multiStatements=true): each run is refused before any query, the
// refusal names the statement and --allow-writes, and the server is unchanged.
func TestCompareBaselineRefusesHostileSQL(t *testing.T) {
	const dbName = "srctl_guard_cb"
	dsn, admin, before := guardDatabase(t, dbName)

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
	dsn, admin, before := guardDatabase(t, dbName)

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

// TestPreLoginAttacksAreBounded runs srctl shadow in its own process and attacks it before
// login: one connection sends 24 frames of 16 MiB as its handshake response, 60 connections
// send only a frame header announcing 16 MiB and wait. The proxy's RSS stays under 200 MB and a
// normal client is served throughout.
func TestPreLoginAttacksAreBounded(t *testing.T) {
	paddr, db := "", ""
	if cfg, err := mysql.ParseDSN(testenv.MySQLDSN(t)); err == nil {
		paddr, db = cfg.Addr, cfg.DBName
	}
	listen := testenv.FreeAddr(t)
	proc, _, stderr := startShadowProcess(t, "--listen", listen, "--primary", paddr, "--shadow", paddr, "--metrics-addr", "",
		"--log-sink", t.TempDir())
	waitListening(t, listen)
	base := testenv.ProcessRSS(t, proc.Process.Pid)

	var attackers sync.WaitGroup
	var conns []net.Conn
	var mu sync.Mutex
	keep := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	big := make([]byte, 4+(1<<24-1))
	big[0], big[1], big[2], big[3] = 0xff, 0xff, 0xff, 1
	attackers.Add(1)
	go func() { // 24 frames of 16 MiB as the handshake response
		defer attackers.Done()
		c, err := net.Dial("tcp", listen)
		if err != nil {
			return
		}
		keep(c)
		for i := 0; i < 24; i++ {
			big[3] = byte(1 + i)
			if _, err := c.Write(big); err != nil {
				return // the proxy closed the connection: what it should do
			}
		}
	}()
	for i := 0; i < 60; i++ { // a header announcing 16 MiB, then silence
		c, err := net.Dial("tcp", listen)
		if err != nil {
			t.Fatalf("attacker %d: %v", i, err)
		}
		keep(c)
		c.Write([]byte{0xff, 0xff, 0xff, 0x01})
	}

	client, err := sql.Open("mysql", "root@tcp("+listen+")/"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.SetMaxIdleConns(0) // every query logs in anew, next to the attackers
	peak := base
	for i := 0; i < 40; i++ {
		var v int
		if err := client.QueryRow("SELECT 1").Scan(&v); err != nil {
			t.Fatalf("query %d during the attack: %v\n%s", i, err, stderr.String())
		}
		peak = max(peak, testenv.ProcessRSS(t, proc.Process.Pid))
	}
	attackers.Wait()
	peak = max(peak, testenv.ProcessRSS(t, proc.Process.Pid))
	t.Logf("proxy RSS %d MiB before, peak %d MiB during the attack", base>>20, peak>>20)
	if peak > 200<<20 && !raceEnabled { // the race detector multiplies memory
		t.Errorf("proxy RSS peaked at %d MiB under pre-login attacks, want < 200 MiB", peak>>20)
	}
}

// TestControlEndpointNeedsToken: /source refuses switches without the token, with a wrong
// one and from a cross-site browser request; --allow-cutover without a token does not start;
// the metrics listeners default to loopback.
func TestControlEndpointNeedsToken(t *testing.T) {
	primary := startFakePrimary(t)
	const token = "0123456789abcdef0123"
	p, err := shadowproxy.New(shadowproxy.Config{Primary: primary, Shadow: primary, AllowCutover: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sourceHandler(p, token, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	post := func(to string, header map[string]string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/source?to="+to, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", map[string]string{"Authorization": "Bearer 0123456789abcdef0124"}, http.StatusUnauthorized},
		{"token as a prefix", map[string]string{"Authorization": "Bearer 0123456789abcdef012"}, http.StatusUnauthorized},
		{"cross-site browser request", map[string]string{"Authorization": "Bearer " + token, "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"other origin", map[string]string{"Authorization": "Bearer " + token, "Origin": "https://evil.example"}, http.StatusForbidden},
	} {
		if got := post("shadow", tc.header); got != tc.want || p.Source() != shadowproxy.SourcePrimary {
			t.Errorf("%s: status %d (want %d), source %s", tc.name, got, tc.want, p.Source())
		}
	}
	if got := post("shadow", map[string]string{"Authorization": "Bearer " + token}); got != http.StatusOK || p.Source() != shadowproxy.SourceShadow {
		t.Errorf("with the token: status %d, source %s; want 200 and shadow", got, p.Source())
	}
	if got := post("primary", nil); got != http.StatusUnauthorized || p.Source() != shadowproxy.SourceShadow {
		t.Errorf("switching back without the token: status %d, source %s", got, p.Source())
	}

	// No token configured: switching to the shadow is refused even with --allow-cutover.
	noTok := httptest.NewServer(sourceHandler(p, "", slog.New(slog.DiscardHandler)))
	defer noTok.Close()
	p.SetSource(shadowproxy.SourcePrimary)
	resp, err := http.Post(noTok.URL+"/source?to=shadow", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || p.Source() != shadowproxy.SourcePrimary {
		t.Errorf("without a configured token: status %d, source %s", resp.StatusCode, p.Source())
	}

	t.Setenv("SRCTL_CONTROL_TOKEN", "")
	code, _, errOut := runCLI(context.Background(), "shadow", "--primary", primary, "--shadow", primary, "--allow-cutover", "--log-sink", t.TempDir())
	if code != 2 || !strings.Contains(errOut, "control token") {
		t.Errorf("--allow-cutover without a token: exit %d, %s", code, errOut)
	}
	t.Setenv("SRCTL_CONTROL_TOKEN", "short")
	code, _, errOut = runCLI(context.Background(), "shadow", "--primary", primary, "--shadow", primary, "--allow-cutover", "--log-sink", t.TempDir())
	if code != 2 || !strings.Contains(errOut, "at least 16") {
		t.Errorf("a short token: exit %d, %s", code, errOut)
	}
	for _, name := range []string{"shadow", "collect"} {
		cmd := newRootCmd(io.Discard, io.Discard)
		sub, _, err := cmd.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		if def := sub.Flags().Lookup("metrics-addr").DefValue; !strings.HasPrefix(def, "127.0.0.1:") {
			t.Errorf("srctl %s --metrics-addr defaults to %q, want a loopback address", name, def)
		}
	}
}

// startFakePrimary is a MySQL-protocol test double, enough for a proxy to be built on.
func startFakePrimary(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// TestShadowUserGrantsAreChecked: srctl shadow reads its shadow user's grants at start and
// warns (log and metric) when they allow writes.
func TestShadowUserGrantsAreChecked(t *testing.T) {
	cfg, err := mysql.ParseDSN(testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, st := range []string{"DROP USER IF EXISTS 'srctl_grants_ro'@'%'", "CREATE USER 'srctl_grants_ro'@'%' IDENTIFIED BY 'ro-pass-123'",
		"GRANT SELECT ON test.* TO 'srctl_grants_ro'@'%'"} {
		if _, err := admin.Exec(st); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { admin.Exec("DROP USER IF EXISTS 'srctl_grants_ro'@'%'") })
	for _, tc := range []struct {
		user, password string
		want           int64
	}{{cfg.User, cfg.Passwd, 1}, {"srctl_grants_ro", "ro-pass-123", 0}} {
		var logs strings.Builder
		var st shadowproxy.Stats
		checkShadowGrants(context.Background(), shadowproxy.Config{Shadow: cfg.Addr, ShadowUser: tc.user, ShadowPassword: tc.password,
			DialTimeout: 5 * time.Second}, &st, slog.New(slog.NewTextHandler(&logs, nil)))
		if got := st.ShadowUserCanWrite.Load(); got != tc.want {
			t.Errorf("%s: can write = %d, want %d; logs:\n%s", tc.user, got, tc.want, logs.String())
		}
		if warned := strings.Contains(logs.String(), "the shadow user can write"); warned != (tc.want == 1) || strings.Contains(logs.String(), "ro-pass-123") {
			t.Errorf("%s: logs:\n%s", tc.user, logs.String())
		}
	}
}
