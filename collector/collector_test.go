package collector

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/testdouble/fedouble"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// net/http keeps idle keep-alive connections' goroutines until they time out.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// readAll returns every record in the bucket, in key order; a bad line or an object outside a
// Hive partition fails the test.
func readAll(t *testing.T, b objstore.Bucket) []lakehouse.ProfileRecord {
	t.Helper()
	b.List(context.Background(), "", func(key string) error {
		if _, ok := lakehouse.ParsePartition(key); !ok {
			t.Errorf("object %q is not in a Hive partition", key)
		}
		return nil
	})
	var out []lakehouse.ProfileRecord
	err := lakehouse.ScanJSONL(context.Background(), b, "", func(rec lakehouse.ProfileRecord, err error) error {
		if err != nil {
			t.Errorf("bad line: %v", err)
			return nil
		}
		out = append(out, rec)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type testEnv struct {
	fe   *fedouble.FE
	srv  *httptest.Server
	sink *objstore.Mem
	cfg  Config
	reg  *prometheus.Registry
}

func newTestEnv(t *testing.T, feCfg fedouble.Config) *testEnv {
	t.Helper()
	feCfg.User, feCfg.Password, feCfg.RecordTruth = "collector", "s3cret-pw", true
	fe := fedouble.New(feCfg)
	srv := httptest.NewServer(fe)
	t.Cleanup(srv.Close)
	sink := objstore.NewMem(fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())) // unique under -count
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	cfg.Cluster = "prod"
	cfg.FEHosts = []string{srv.URL}
	cfg.User, cfg.Password = "collector", "s3cret-pw"
	cfg.PollInterval = 100 * time.Millisecond
	cfg.FlushInterval = 200 * time.Millisecond
	cfg.ProfileRetryFor = 2 * time.Second
	cfg.SpillAfter = 500 * time.Millisecond
	cfg.StateDir = t.TempDir()
	cfg.Sink = JSONLSink(sink)
	cfg.Registerer = reg
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return &testEnv{fe: fe, srv: srv, sink: sink, cfg: cfg, reg: reg}
}

// run starts the collector and returns a stop function that cancels it and returns Run's error.
// Each run gets a fresh metrics registry, which becomes e.reg.
func (e *testEnv) run(t *testing.T, cfg Config) func() error {
	t.Helper()
	e.reg = prometheus.NewRegistry()
	cfg.Registerer = e.reg
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var runErr error
	var wg sync.WaitGroup
	wg.Go(func() { runErr = c.Run(ctx) })
	return func() error { cancel(); wg.Wait(); return runErr }
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCollectsFinishedAndFailedQueriesWithProfiles(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	e.fe.Begin(fedouble.Query{ID: "q-running-only", SQL: "SELECT sleep(100)"})
	e.fe.Begin(fedouble.Query{ID: "q1", SQL: "SELECT * FROM t WHERE id = 1 /*route='%2Fapi%2Fx',traceparent='00-a'*/", Database: "shop", User: "app", HasProfile: true, ProfileBytes: 2000, ProfileDelay: 300 * time.Millisecond})
	e.fe.Begin(fedouble.Query{ID: "q2", SQL: "SELECT nope", Failed: true, ErrorMessage: "Unknown column 'nope'"})
	e.fe.Begin(fedouble.Query{ID: "q3", SQL: "SELECT 3", HasProfile: false})
	stop := e.run(t, e.cfg)
	time.Sleep(150 * time.Millisecond)
	e.fe.End("q1")
	e.fe.End("q2")
	e.fe.End("q3")
	waitFor(t, "3 records", 10*time.Second, func() bool { return len(readAll(t, e.sink)) >= 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	recs := map[string]lakehouse.ProfileRecord{}
	for _, r := range readAll(t, e.sink) {
		if _, dup := recs[r.QueryID]; dup {
			t.Errorf("duplicate record %s", r.QueryID)
		}
		recs[r.QueryID] = r
	}
	if _, ok := recs["q-running-only"]; ok || len(recs) != 3 {
		t.Fatalf("records %v: want q1, q2, q3 and no RUNNING-only query", keys(recs))
	}
	q1 := recs["q1"]
	truth := truthOf(e.fe, "q1")
	if q1.State != "FINISHED" || q1.ProfileText != truth.Profile() || q1.ProfileStatus != "ok" {
		t.Errorf("q1: state %s status %s profile %d bytes (want %d)", q1.State, q1.ProfileStatus, len(q1.ProfileText), len(truth.Profile()))
	}
	if q1.Cluster != "prod" || q1.FEHost != strings.TrimPrefix(e.srv.URL, "http://") || q1.Database != "shop" || q1.User != "app" {
		t.Errorf("q1 identity fields: %+v", q1)
	}
	if q1.QueryHash == "" || q1.Endpoint != "/api/x" || q1.Fingerprint != "select * from t where id = ?" || q1.SchemaVersion != 1 {
		t.Errorf("q1 derived fields: hash=%q endpoint=%q fp=%q", q1.QueryHash, q1.Endpoint, q1.Fingerprint)
	}
	if q1.ScanRows == nil || q1.CPUCostNS == nil || q1.ResourceGroup != "default_wg" || q1.StartTime.IsZero() || q1.EndTime.IsZero() {
		t.Errorf("q1 FE stats missing: %+v", q1)
	}
	if m := q1.Metrics; m == nil || m.CPUNS != 1200e6 || m.State != "Finished" || m.ScanOperators == 0 || len(m.TopOperators) == 0 {
		t.Errorf("q1 headline metrics: %+v", m)
	}
	q2 := recs["q2"]
	if q2.State != "FAILED" || q2.ErrorMessage != "Unknown column 'nope'" {
		t.Errorf("q2: %s %q", q2.State, q2.ErrorMessage)
	}
	if q3 := recs["q3"]; q3.ProfileStatus != "not_found" || q3.ProfileText != "" {
		t.Errorf("q3 without profile: status %q", q3.ProfileStatus)
	}
	if n := counterValue(t, e.reg, "srctl_collect_profiles_total", map[string]string{"status": "not_found"}); n != 2 {
		t.Errorf("profiles not_found = %v, want 2 (q2, q3)", n)
	}
	assertNoSecret(t, e.reg, "s3cret-pw")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func truthOf(fe *fedouble.FE, id string) fedouble.Truth {
	for _, t := range fe.Truths() {
		if t.ID == id {
			return t
		}
	}
	return fedouble.Truth{}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metric
				}
			}
			if m.Counter != nil {
				total += m.GetCounter().GetValue()
			} else if m.Gauge != nil {
				total += m.GetGauge().GetValue()
			}
		}
	}
	return total
}

func assertNoSecret(t *testing.T, reg *prometheus.Registry, secret string) {
	t.Helper()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if strings.Contains(mf.String(), secret) {
			t.Fatalf("metric %s leaks the password", mf.GetName())
		}
	}
}
