package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/testdouble/fedouble"
)

// runWorkload drives fes at qps for d and returns when every started query has ended.
func runWorkload(fes []*fedouble.FE, qps float64, d time.Duration, w fedouble.Workload) int {
	w.FEs, w.QPS = fes, qps
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return w.Run(ctx)
}

// checkComplete asserts that every ended query of fe is in recs, with its error when FAILED and
// its profile when one was built. It returns the number of duplicate records.
func checkComplete(t *testing.T, fes []*fedouble.FE, recs []lakehouse.ProfileRecord) (dups int) {
	t.Helper()
	byID := map[string]lakehouse.ProfileRecord{}
	for _, r := range recs {
		if r.State == "GAP" {
			continue // a record of a possible gap, not of a query
		}
		if _, ok := byID[r.QueryID]; ok {
			dups++
		}
		byID[r.QueryID] = r
	}
	ended := 0
	for _, fe := range fes {
		for _, tr := range fe.Truths() {
			if !tr.Ended {
				continue
			}
			ended++
			r, ok := byID[tr.ID]
			switch {
			case !ok:
				t.Errorf("query %s (%s) lost", tr.ID, tr.State)
			case r.State != tr.State:
				t.Errorf("query %s: state %s, want %s", tr.ID, r.State, tr.State)
			case tr.State == "FAILED" && r.ErrorMessage != tr.ErrorMessage:
				t.Errorf("query %s: error %q, want %q", tr.ID, r.ErrorMessage, tr.ErrorMessage)
			case tr.HasProfile && r.ProfileText != tr.Profile() && tr.State == "FINISHED":
				// A query that did not finish gets one attempt a second after its end (which a
				// 404 or a 500 may end): its record does not wait for a profile that usually
				// never comes.
				t.Errorf("query %s (%s): profile missing (status %s)", tr.ID, tr.State, r.ProfileStatus)
			}
		}
	}
	if ended == 0 {
		t.Fatal("workload ended no query")
	}
	if len(byID) != ended {
		t.Errorf("%d distinct records for %d ended queries", len(byID), ended)
	}
	return dups
}

func TestRestartResumesFromCheckpointWithoutRepeats(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	stop := e.run(t, e.cfg)
	runWorkload([]*fedouble.FE{e.fe}, 50, time.Second, fedouble.Workload{ProfileBytes: 1000})
	waitFor(t, "first records", 10*time.Second, func() bool { return len(readAll(t, e.sink)) >= 40 })
	time.Sleep(500 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	first := len(readAll(t, e.sink))
	// More queries while the collector is down (well within the FE's retention).
	runWorkload([]*fedouble.FE{e.fe}, 50, time.Second, fedouble.Workload{ProfileBytes: 1000, Seed: 2})
	stop = e.run(t, e.cfg)
	waitFor(t, "records after restart", 10*time.Second, func() bool {
		n := 0
		for _, tr := range e.fe.Truths() {
			if tr.Ended {
				n++
			}
		}
		return len(readAll(t, e.sink)) >= n
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, e.sink)
	if dups := checkComplete(t, []*fedouble.FE{e.fe}, recs); dups != 0 {
		t.Errorf("%d duplicates after a clean restart (first run wrote %d)", dups, first)
	}
}

func TestSinkOutageSpillsAndReplays(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	var down atomic.Bool
	down.Store(true)
	e.sink.SetFailPut(func(string) error {
		if down.Load() {
			return errors.New("503 Service Unavailable")
		}
		return nil
	})
	stop := e.run(t, e.cfg)
	runWorkload([]*fedouble.FE{e.fe}, 50, 2*time.Second, fedouble.Workload{ProfileBytes: 1000, FailRate: 0.1})
	waitFor(t, "a spill", 10*time.Second, func() bool {
		files, _ := filepath.Glob(filepath.Join(e.cfg.StateDir, "spill", "*.jsonl"))
		return len(files) > 0
	})
	if n := len(readAll(t, e.sink)); n != 0 {
		t.Fatalf("%d records written while the sink was down", n)
	}
	down.Store(false)
	waitFor(t, "spill replay", 15*time.Second, func() bool {
		files, _ := filepath.Glob(filepath.Join(e.cfg.StateDir, "spill", "*.jsonl"))
		return len(files) == 0 && counterValue(t, e.reg, "srctl_collect_spill_replays_total", nil) > 0
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkComplete(t, []*fedouble.FE{e.fe}, readAll(t, e.sink))
	if counterValue(t, e.reg, "srctl_collect_spills_total", nil) == 0 {
		t.Error("no spill counted")
	}
}

func TestSpillSurvivesRestartWhileSinkIsDown(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	e.sink.SetFailPut(func(string) error { return errors.New("sink down") })
	stop := e.run(t, e.cfg)
	runWorkload([]*fedouble.FE{e.fe}, 50, time.Second, fedouble.Workload{ProfileBytes: 500})
	waitFor(t, "a spill", 10*time.Second, func() bool {
		files, _ := filepath.Glob(filepath.Join(e.cfg.StateDir, "spill", "*.jsonl"))
		return len(files) > 0
	})
	time.Sleep(time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// The sink is back, the FE's cache is gone (FE restarted): only the spill has the records.
	e.sink.SetFailPut(nil)
	e.fe.WipeCache()
	stop = e.run(t, e.cfg)
	waitFor(t, "replay at start-up", 5*time.Second, func() bool {
		files, _ := filepath.Glob(filepath.Join(e.cfg.StateDir, "spill", "*.jsonl"))
		return len(files) == 0
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkComplete(t, []*fedouble.FE{e.fe}, readAll(t, e.sink))
}

// TestSinkAndSpillDownKeepsRecordsInTheJournal: with the sink down and spilling impossible, the
// records wait in the journal on disk, not in memory; when the sink is back they all arrive.
func TestSinkAndSpillDownKeepsRecordsInTheJournal(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	e.cfg.MaxBufferedBytes = 1 << 20
	e.cfg.BatchSize = 50
	e.sink.SetFailPut(func(string) error { return errors.New("sink down") })
	spillDir := filepath.Join(e.cfg.StateDir, "spill")
	stop := e.run(t, e.cfg)
	waitFor(t, "spill dir", 5*time.Second, func() bool { _, err := os.Stat(spillDir); return err == nil })
	os.Remove(spillDir)
	os.WriteFile(spillDir, []byte("not a directory"), 0o644)
	runWorkload([]*fedouble.FE{e.fe}, 100, 2*time.Second, fedouble.Workload{ProfileBytes: 20 << 10})
	waitFor(t, "records journaled", 10*time.Second, func() bool {
		return counterValue(t, e.reg, "srctl_collect_journaled_total", map[string]string{"kind": "record"}) >= float64(e.fe.Stats().Ended)
	})
	if used := counterValue(t, e.reg, "srctl_collect_buffer_bytes", nil); used > 1<<20 {
		t.Errorf("%v bytes held in memory with a 1 MiB limit", used)
	}
	if n := len(readAll(t, e.sink)); n != 0 {
		t.Fatalf("%d records in a sink that is down", n)
	}
	os.Remove(spillDir)
	e.sink.SetFailPut(nil)
	waitFor(t, "everything written", 30*time.Second, func() bool { return len(readAll(t, e.sink)) >= e.fe.Stats().Ended })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if dups := checkComplete(t, []*fedouble.FE{e.fe}, readAll(t, e.sink)); dups != 0 {
		t.Errorf("%d duplicates", dups)
	}
}

func TestFEFaultsLoseNothing(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{Faults: fedouble.Faults{ServerError: 0.1, Truncate: 0.05, Reset: 0.03, Stall: 0.02, StallFor: time.Second, Profile404: 0.05}})
	cfg := e.cfg
	cfg.ProfileRetryFor = 5 * time.Second // 2 s would be 4 attempts: too few for a 23% failure rate
	stop := e.run(t, cfg)
	runWorkload([]*fedouble.FE{e.fe}, 50, 3*time.Second, fedouble.Workload{ProfileBytes: 2000, FailRate: 0.05, MaxProfileDelay: 300 * time.Millisecond})
	waitFor(t, "all records", 30*time.Second, func() bool { return len(readAll(t, e.sink)) >= e.fe.Stats().Ended })
	time.Sleep(300 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if dups := checkComplete(t, []*fedouble.FE{e.fe}, readAll(t, e.sink)); dups != 0 {
		t.Errorf("%d duplicates without any restart", dups)
	}
	for _, kind := range []string{"http_5xx", "truncated"} {
		if counterValue(t, e.reg, "srctl_collect_fe_errors_total", map[string]string{"kind": kind}) == 0 {
			t.Errorf("no FE error of kind %s counted", kind)
		}
	}
}

func TestDeadFEDoesNotStallOthers(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	// A second FE that accepts connections and never answers.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	cfg := e.cfg
	cfg.FEHosts = []string{hang.URL, e.srv.URL}
	cfg.RequestTimeout = 10 * time.Second
	stop := e.run(t, cfg)
	runWorkload([]*fedouble.FE{e.fe}, 50, time.Second, fedouble.Workload{ProfileBytes: 500})
	start := time.Now()
	waitFor(t, "records of the live FE", 5*time.Second, func() bool { return len(readAll(t, e.sink)) >= e.fe.Stats().Ended })
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("live FE's records took %s with a hanging FE beside it", waited)
	}
	hang.CloseClientConnections()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestUnauthorizedNamesFEAndUserNeverPassword(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	var logs bytes.Buffer
	var mu sync.Mutex
	cfg := e.cfg
	cfg.Password = "wrong-Pa55word"
	cfg.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	stop := e.run(t, cfg)
	waitFor(t, "401 counted", 5*time.Second, func() bool {
		return counterValue(t, e.reg, "srctl_collect_fe_errors_total", map[string]string{"kind": "unauthorized"}) > 0
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	host := strings.TrimPrefix(e.srv.URL, "http://")
	if !strings.Contains(out, host) || !strings.Contains(out, `\"collector\"`) || !strings.Contains(out, "GRANT OPERATE") {
		t.Errorf("401 log should name the FE, the user and the grant:\n%s", out)
	}
	if strings.Contains(out, "wrong-Pa55word") {
		t.Fatal("password in logs")
	}
	assertNoSecret(t, e.reg, "wrong-Pa55word")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestAPIVersions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		v1Only bool
		api    API
	}{
		{"auto-falls-back-to-v1", true, APIAuto},
		{"auto-uses-v2", false, APIAuto},
		{"v2", false, APIv2},
		{"v1", false, APIv1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, fedouble.Config{V1Only: tc.v1Only})
			cfg := e.cfg
			cfg.API = tc.api
			stop := e.run(t, cfg)
			runWorkload([]*fedouble.FE{e.fe}, 50, 500*time.Millisecond, fedouble.Workload{ProfileBytes: 500})
			waitFor(t, "records", 10*time.Second, func() bool { return len(readAll(t, e.sink)) >= e.fe.Stats().Ended })
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			checkComplete(t, []*fedouble.FE{e.fe}, readAll(t, e.sink))
		})
	}
}

// TestGapAfterRestartIsReported: the collector is down for three times the FE's retention while
// queries run; the restart must report the window it can no longer read (log, metric, and a GAP
// record covering the queries that were lost) instead of silently continuing.
func TestGapAfterRestartIsReported(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{Retention: time.Second, EvictEvery: 200 * time.Millisecond})
	cfg := e.cfg
	cfg.Retention = time.Second
	stop := e.run(t, cfg)
	runWorkload([]*fedouble.FE{e.fe}, 50, 500*time.Millisecond, fedouble.Workload{ProfileBytes: 500})
	waitFor(t, "records", 10*time.Second, func() bool { return len(readAll(t, e.sink)) >= e.fe.Stats().Ended })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if counterValue(t, e.reg, "srctl_collect_gaps_total", nil) != 0 {
		t.Fatal("gap counted without a pause")
	}
	before := map[string]bool{}
	for _, tr := range e.fe.Truths() {
		before[tr.ID] = true
	}
	// Queries run and are evicted while the collector is down for 3x the retention.
	runWorkload([]*fedouble.FE{e.fe}, 50, 500*time.Millisecond, fedouble.Workload{ProfileBytes: 500, Seed: 3})
	time.Sleep(3 * time.Second)
	runWorkload([]*fedouble.FE{e.fe}, 50, 300*time.Millisecond, fedouble.Workload{ProfileBytes: 500, Seed: 4})
	var logs testenv.SyncBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	stop = e.run(t, cfg)
	// Everything the FE still holds (after the gap) is collected.
	waitFor(t, "the queries after the gap", 10*time.Second, func() bool {
		var gapEnd time.Time
		got := map[string]bool{}
		for _, r := range readAll(t, e.sink) {
			if r.State == "GAP" {
				gapEnd = r.EndTime
			}
			got[r.QueryID] = true
		}
		if gapEnd.IsZero() {
			return false
		}
		for _, tr := range e.fe.Truths() {
			if tr.Ended && time.Unix(0, tr.EndEventTime).After(gapEnd) && !got[tr.ID] {
				return false
			}
		}
		return true
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := counterValue(t, e.reg, "srctl_collect_gaps_total", nil); got != 1 {
		t.Fatalf("gaps = %v, want 1", got)
	}
	if !strings.Contains(logs.String(), "possible gap") {
		t.Errorf("no gap in the log:\n%s", logs.String())
	}
	var gaps []lakehouse.ProfileRecord
	got := map[string]bool{}
	for _, r := range readAll(t, e.sink) {
		if r.State == "GAP" {
			gaps = append(gaps, r)
		}
		got[r.QueryID] = true
	}
	if len(gaps) != 1 {
		t.Fatalf("%d GAP records, want 1", len(gaps))
	}
	g := gaps[0]
	lost := 0
	for _, tr := range e.fe.Truths() {
		if before[tr.ID] || got[tr.ID] {
			continue
		}
		lost++
		end := time.Unix(0, tr.EndEventTime)
		if end.Before(g.StartTime) || end.After(g.EndTime) {
			t.Errorf("lost query %s ended at %s, outside the gap record's window %s .. %s", tr.ID, end, g.StartTime, g.EndTime)
		}
	}
	if lost == 0 {
		t.Fatal("nothing was lost: the scenario did not evict anything")
	}
	t.Logf("gap window %s .. %s (%s) covers the %d lost queries", g.StartTime.Format("15:04:05.000"), g.EndTime.Format("15:04:05.000"), g.EndTime.Sub(g.StartTime), lost)
}

func TestFEClockJumpBackIsDetected(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	e := newTestEnv(t, fedouble.Config{Clock: clock})
	stop := e.run(t, e.cfg)
	runWorkload([]*fedouble.FE{e.fe}, 50, 500*time.Millisecond, fedouble.Workload{ProfileBytes: 500})
	waitFor(t, "records", 10*time.Second, func() bool { return len(readAll(t, e.sink)) >= e.fe.Stats().Ended })
	offset.Store(int64(-2 * time.Minute)) // NTP steps the FE's clock back two minutes
	runWorkload([]*fedouble.FE{e.fe}, 50, 500*time.Millisecond, fedouble.Workload{ProfileBytes: 500, Seed: 9})
	waitFor(t, "records after the jump", 10*time.Second, func() bool { return len(readAll(t, e.sink)) >= e.fe.Stats().Ended })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if dups := checkComplete(t, []*fedouble.FE{e.fe}, readAll(t, e.sink)); dups != 0 {
		t.Errorf("%d duplicates: the dedup cache should drop re-read entries", dups)
	}
	if counterValue(t, e.reg, "srctl_collect_clock_jumps_total", nil) == 0 {
		t.Error("clock jump not counted")
	}
}

type fakeResolver struct {
	mu    sync.Mutex
	addrs []string
	err   error
}

func (r *fakeResolver) set(err error, addrs ...string) {
	r.mu.Lock()
	r.addrs, r.err = addrs, err
	r.mu.Unlock()
}

func (r *fakeResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addrs, r.err
}

func TestHeadlessServiceDiscovery(t *testing.T) {
	// Two FEs on one port, as pods behind a headless service: 127.0.0.1 and 127.0.0.2.
	fe1 := fedouble.New(fedouble.Config{RecordTruth: true})
	fe2 := fedouble.New(fedouble.Config{RecordTruth: true})
	ln1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln1.Addr().(*net.TCPAddr).Port
	ln2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.2:%d", port))
	if err != nil {
		t.Fatalf("second loopback address: %v", err)
	}
	s1, s2 := &http.Server{Handler: fe1}, &http.Server{Handler: fe2}
	go s1.Serve(ln1)
	go s2.Serve(ln2)
	defer s1.Close()
	defer s2.Close()

	e := newTestEnv(t, fedouble.Config{})
	res := &fakeResolver{}
	res.set(nil, "127.0.0.1")
	cfg := e.cfg
	cfg.FEHosts, cfg.HeadlessService, cfg.HTTPPort, cfg.Resolver = nil, "fe-search.sr.svc", port, res
	cfg.User, cfg.Password = "", ""
	stop := e.run(t, cfg)
	runWorkload([]*fedouble.FE{fe1, fe2}, 30, 500*time.Millisecond, fedouble.Workload{ProfileBytes: 500})
	waitFor(t, "fe1 records", 10*time.Second, func() bool { return len(readAll(t, e.sink)) >= fe1.Stats().Ended })
	res.set(errors.New("SERVFAIL")) // DNS down: keep polling what is known
	time.Sleep(300 * time.Millisecond)
	res.set(nil, "127.0.0.1", "127.0.0.2") // a new FE appears: collected from its whole cache
	waitFor(t, "fe2 records", 10*time.Second, func() bool {
		return len(readAll(t, e.sink)) >= fe1.Stats().Ended+fe2.Stats().Ended
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkComplete(t, []*fedouble.FE{fe1, fe2}, readAll(t, e.sink))
	hosts := map[string]bool{}
	for _, r := range readAll(t, e.sink) {
		hosts[r.FEHost] = true
	}
	if !hosts[fmt.Sprintf("127.0.0.2:%d", port)] || !hosts[fmt.Sprintf("127.0.0.1:%d", port)] {
		t.Errorf("fe_host values %v", hosts)
	}
	if counterValue(t, e.reg, "srctl_collect_fe_errors_total", map[string]string{"kind": "dns"}) == 0 {
		t.Error("DNS failure not counted")
	}
}

func TestOversizedBodiesAreRejectedNotFatal(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	cfg := e.cfg
	cfg.MaxProfileBytes = 10 << 10
	stop := e.run(t, cfg)
	e.fe.Begin(fedouble.Query{ID: "big", SQL: "SELECT 1", HasProfile: true, ProfileBytes: 3 << 20})
	e.fe.End("big")
	e.fe.Begin(fedouble.Query{ID: "small", SQL: "SELECT 2", HasProfile: true, ProfileBytes: 2 << 10})
	e.fe.End("small")
	waitFor(t, "records", 10*time.Second, func() bool { return len(readAll(t, e.sink)) >= 2 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, r := range readAll(t, e.sink) {
		want := map[string]string{"big": "too_large", "small": "ok"}[r.QueryID]
		if r.ProfileStatus != want {
			t.Errorf("%s: profile_status %q, want %q", r.QueryID, r.ProfileStatus, want)
		}
	}
}

func TestMultiMegabyteProfile(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	stop := e.run(t, e.cfg)
	e.fe.Begin(fedouble.Query{ID: "huge", SQL: "SELECT 1", HasProfile: true, ProfileBytes: 6 << 20})
	e.fe.End("huge")
	waitFor(t, "record", 10*time.Second, func() bool { return len(readAll(t, e.sink)) >= 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkComplete(t, []*fedouble.FE{e.fe}, readAll(t, e.sink))
}

func TestStopLetsTheWriteInFlightFinish(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	var inFlight atomic.Bool
	e.sink.SetFailPut(func(string) error {
		inFlight.Store(true)
		time.Sleep(400 * time.Millisecond) // a slow sink: the stop arrives during this write
		return nil
	})
	cfg := e.cfg
	cfg.BatchSize = 10
	stop := e.run(t, cfg)
	runWorkload([]*fedouble.FE{e.fe}, 100, 500*time.Millisecond, fedouble.Workload{ProfileBytes: 500})
	waitFor(t, "a write in flight", 5*time.Second, inFlight.Load)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(cfg.StateDir, "spill", "*.jsonl")); len(files) != 0 {
		t.Fatalf("a clean stop spilled %d files instead of writing them", len(files))
	}
	if n := counterValue(t, e.reg, "srctl_collect_spills_total", nil); n != 0 {
		t.Fatalf("spills_total = %v after a clean stop", n)
	}
	if len(readAll(t, e.sink)) == 0 {
		t.Fatal("nothing written")
	}
}

// TestWrittenIDsCarriedAcrossRestarts: a query written above the cursor (an older one still
// waits for its profile) is skipped by the second run, which stops while the older one still
// waits; the third run must not write it again (the second run's checkpoint carries its id).
func TestWrittenIDsCarriedAcrossRestarts(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	e.cfg.ProfileRetryFor = time.Minute // the FAILED query without a profile stays pending in every run
	e.fe.Begin(fedouble.Query{ID: "older-failed", SQL: "SELECT 1", Failed: true, ErrorMessage: "boom"})
	e.fe.End("older-failed")
	e.fe.Begin(fedouble.Query{ID: "newer-ok", SQL: "SELECT 2", HasProfile: true, ProfileBytes: 500})
	e.fe.End("newer-ok")
	count := func() int {
		n := 0
		for _, r := range readAll(t, e.sink) {
			if r.QueryID == "newer-ok" {
				n++
			}
		}
		return n
	}
	polls := func() int { return e.fe.Stats().QueryDetailRequests }
	for run := 1; run <= 3; run++ {
		before := polls()
		stop := e.run(t, e.cfg)
		if run == 1 {
			waitFor(t, "the newer query written", 10*time.Second, func() bool { return count() == 1 })
		} else {
			// Two polls: the first one after the restart has been processed.
			waitFor(t, "two polls", 10*time.Second, func() bool { return polls() >= before+2 })
			time.Sleep(3 * e.cfg.FlushInterval)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Fatalf("after run %d the newer query was written %d times", run, n)
		}
	}
}
