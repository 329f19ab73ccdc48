package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/testdouble/fedouble"
)

// runCLI runs srctl in-process and returns its exit code, stdout and stderr.
func runCLI(ctx context.Context, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrorsExit2AndNameTheInput(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"collect"}, "--cluster is required"},
		{nil, []string{"collect", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{nil, []string{"collect", "--cluster", "c", "--fe-hosts", "a:1", "--poll-interval", "soon"}, "--poll-interval"},
		{map[string]string{"SRCTL_POLL_INTERVAL": "soon"}, []string{"collect", "--cluster", "c", "--fe-hosts", "a:1"}, "SRCTL_POLL_INTERVAL"},
		{nil, []string{"collect", "--cluster", "c", "--fe-hosts", "a:1", "--api", "v3"}, `--api "v3"`},
		{nil, []string{"collect", "--cluster", "c", "--fe-hosts", "a:1", "--max-buffered-bytes", "lots"}, "--max-buffered-bytes"},
		{nil, []string{"collect", "--cluster", "c", "--fe-hosts", "a:1", "--sink", "ftp://x/y"}, "ftp"},
		{nil, []string{"--log-format", "xml", "version"}, "--log-format"},
		{nil, []string{"shadow", "--primary", "127.0.0.1:1", "--shadow", "127.0.0.1:2", "--log-batch-rows", "-1"}, "--log-batch-rows -1"},
		{map[string]string{"SRCTL_LOG_BATCH_ROWS": "200001"}, []string{"shadow", "--primary", "127.0.0.1:1", "--shadow", "127.0.0.1:2"}, "--log-batch-rows 200001"},
		{nil, []string{"collect", "--cluster", "c", "--fe-hosts", "a:1", "--endpoint-rules", "/no/such/rules.yaml"}, "/no/such/rules.yaml"},
		{nil, []string{"collect", "--cluster", "c", "--fe-hosts", "a:1", "--endpoint-rules", "testdata/bad-endpoint-rules.yaml"}, "rule 2 (reports): match \"[\""},
	} {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		code, _, stderr := runCLI(context.Background(), tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("srctl %v: exit %d, stderr %q; want exit 2 mentioning %q", tc.args, code, stderr, tc.want)
		}
		for k := range tc.env {
			os.Unsetenv(k)
		}
	}
}

func TestHelpNamesEnvironmentVariables(t *testing.T) {
	code, out, _ := runCLI(context.Background(), "collect", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"SRCTL_POLL_INTERVAL, POLL_INTERVAL", "SRCTL_CLUSTER, CLUSTER_NAME", "SRCTL_STATE_DIR, CHECKPOINT_DIR",
		"SRCTL_FE_PASSWORD", "GRANT OPERATE ON SYSTEM", "year=YYYY/month=MM/day=DD/hour=HH"} {
		if !strings.Contains(out, want) {
			t.Errorf("collect --help does not mention %q", want)
		}
	}
}

func TestVersionAndCompletion(t *testing.T) {
	code, out, _ := runCLI(context.Background(), "version")
	if code != 0 || !strings.HasPrefix(out, "srctl ") {
		t.Fatalf("version: %d %q", code, out)
	}
	code, out, _ = runCLI(context.Background(), "completion", "bash")
	if code != 0 || !strings.Contains(out, "__start_srctl") {
		t.Fatalf("completion bash: exit %d, %d bytes", code, len(out))
	}
}

// feServer starts an FE double with some finished queries already in its cache.
func feServer(t *testing.T, tls bool, user, password string) (*fedouble.FE, *httptest.Server) {
	t.Helper()
	fe := fedouble.New(fedouble.Config{User: user, Password: password, RecordTruth: true})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewUnstartedServer(fe)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the no-CA case logs handshake errors
		srv.StartTLS()
	} else {
		srv = httptest.NewServer(fe)
	}
	t.Cleanup(srv.Close)
	for i := range 5 {
		id := fmt.Sprintf("q%d", i)
		fe.Begin(fedouble.Query{ID: id, SQL: fmt.Sprintf("SELECT %d", i), HasProfile: true, ProfileBytes: 1000})
		fe.End(id)
	}
	return fe, srv
}

func readDir(t *testing.T, dir string) []lakehouse.ProfileRecord {
	t.Helper()
	b, err := objstore.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return readBucket(t, b)
}

func TestLegacyEnvironmentVariables(t *testing.T) {
	_, srv := feServer(t, false, "legacy", "legacy-secret")
	out := t.TempDir()
	t.Setenv("CLUSTER_NAME", "old-prod")
	t.Setenv("FE_HOSTS", strings.TrimPrefix(srv.URL, "http://"))
	t.Setenv("FE_USER", "legacy")
	t.Setenv("FE_PASSWORD", "legacy-secret")
	t.Setenv("OUTPUT_DIR", out)
	t.Setenv("POLL_INTERVAL", "1") // bare seconds, as the earlier collector took them
	t.Setenv("CHECKPOINT_DIR", filepath.Join(t.TempDir(), "ckpt"))
	code, _, stderr := runCLI(context.Background(), "collect", "--duration", "1500ms", "--metrics-addr", "", "--profile-retry-for", "200ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recs := readDir(t, out)
	if len(recs) != 5 || recs[0].Cluster != "old-prod" {
		t.Fatalf("%d records (cluster %q)", len(recs), recs[0].Cluster)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("CHECKPOINT_DIR"), "cursors.json")); err != nil {
		t.Errorf("CHECKPOINT_DIR not used: %v", err)
	}
	if strings.Contains(stderr, "legacy-secret") {
		t.Fatal("password in the log")
	}
	// The SRCTL_ variable wins over the legacy one.
	t.Setenv("SRCTL_CLUSTER", "new-prod")
	t.Setenv("OUTPUT_DIR", t.TempDir())
	t.Setenv("CHECKPOINT_DIR", t.TempDir())
	if code, _, stderr := runCLI(context.Background(), "collect", "--duration", "1500ms", "--metrics-addr", "", "--profile-retry-for", "200ms"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if recs := readDir(t, os.Getenv("OUTPUT_DIR")); len(recs) == 0 || recs[0].Cluster != "new-prod" {
		t.Fatalf("SRCTL_CLUSTER did not win: %+v", recs)
	}
}

func TestCollectOverHTTPSWithPrivateCAAndPasswordFile(t *testing.T) {
	fe, srv := feServer(t, true, "collector", "file-secret")
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	cert := srv.Certificate()
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("file-secret\n"), 0o600)
	sink := filepath.Join(dir, "lake")
	code, _, stderr := runCLI(context.Background(), "collect", "--cluster", "tls", "--fe-hosts", srv.URL, "--fe-user", "collector",
		"--fe-password-file", pwFile, "--fe-tls-ca", ca, "--sink", "file://"+sink, "--state-dir", filepath.Join(dir, "state"),
		"--poll-interval", "200ms", "--duration", "1500ms", "--metrics-addr", "", "--profile-retry-for", "200ms", "--log-level", "debug")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recs := readDir(t, sink)
	if len(recs) != 5 {
		t.Fatalf("%d records over HTTPS", len(recs))
	}
	for _, r := range recs {
		if r.ProfileText == "" || !strings.HasPrefix(r.FEHost, "127.0.0.1:") {
			t.Errorf("record %s: fe_host %q, profile %d bytes", r.QueryID, r.FEHost, len(r.ProfileText))
		}
	}
	_ = fe
	if strings.Contains(stderr, "file-secret") {
		t.Fatal("password in the log")
	}
	// Without the CA the certificate is refused, and the error says so.
	code, _, stderr = runCLI(context.Background(), "collect", "--cluster", "tls", "--fe-hosts", srv.URL, "--fe-password-file", pwFile,
		"--sink", filepath.Join(dir, "lake2"), "--state-dir", filepath.Join(dir, "state2"), "--duration", "700ms", "--metrics-addr", "")
	if code != 0 || !strings.Contains(stderr, "certificate") {
		t.Errorf("without --fe-tls-ca: exit %d, want 0 with a logged certificate error:\n%s", code, stderr)
	}
}

func TestMetricsHealthAndReadiness(t *testing.T) {
	_, srv := feServer(t, false, "", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var code int
	var stderr string
	wg.Go(func() {
		code, _, stderr = runCLI(ctx, "collect", "--cluster", "m", "--fe-hosts", srv.URL, "--sink", filepath.Join(dir, "lake"),
			"--state-dir", filepath.Join(dir, "state"), "--poll-interval", "200ms", "--metrics-addr", addr)
	})
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st, _ := get("/readyz"); st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, _ := get("/healthz"); st != 200 {
		t.Errorf("/healthz %d", st)
	}
	st, body := get("/metrics")
	for _, want := range []string{"srctl_collect_polls_total", "srctl_collect_cursor_lag_seconds", "go_goroutines", "process_resident_memory_bytes"} {
		if st != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if st, _ := get("/debug/pprof/"); st != 404 {
		t.Errorf("pprof served without --pprof: %d", st)
	}
	cancel()
	wg.Wait()
	if code != 0 {
		t.Fatalf("exit %d after cancel: %s", code, stderr)
	}
}
