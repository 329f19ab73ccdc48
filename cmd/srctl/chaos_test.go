package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/testdouble/fedouble"
)

// flakyHandler fails every request with 503 while down is set, like an S3 outage.
type flakyHandler struct {
	next http.Handler
	down atomic.Bool
}

func (h *flakyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.down.Load() {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>injected outage</Message></Error>`)
		return
	}
	h.next.ServeHTTP(w, r)
}

type interval struct{ from, to time.Time }

// TestChaosCollectorLosesNothing runs `srctl collect` as a real process against the FE double
// at 200 queries/s with 10% HTTP 500s, 5% truncated bodies, 3 s stalls and async profile delays,
// writing to S3 (gofakes3 through the real AWS SDK). The collector is SIGKILLed three times and
// restarted, and S3 is down for 20 s. Afterwards every ended query must be in the bucket, FAILED
// ones with their error, and FINISHED ones with their profile when that profile was available
// for at least 2 s while a collector process was running.
//
// It runs twice with 1 MiB journal segments (at the default 64 MiB none would be done with in a
// minute at this rate): recycled, the default (a dozen segments written over, across the kills),
// and deleted (--journal-recycle=false).
func TestChaosCollectorLosesNothing(t *testing.T) {
	if testing.Short() {
		testenv.SkipOrFail(t, "-short: the chaos test takes about a minute")
	}
	t.Run("journal-recycled", func(t *testing.T) {
		testChaosCollectorLosesNothing(t, true, "--journal-segment-bytes", "1MiB")
	})
	t.Run("journal-deleted", func(t *testing.T) {
		testChaosCollectorLosesNothing(t, false, "--journal-recycle=false", "--journal-segment-bytes", "1MiB")
	})
}

func testChaosCollectorLosesNothing(t *testing.T, recycles bool, extraArgs ...string) {
	const (
		qps          = 200
		workloadFor  = 36 * time.Second
		s3DownAt     = 12 * time.Second
		s3DownFor    = 20 * time.Second
		profileAvail = 2 * time.Second
	)
	killAt := []time.Duration{6 * time.Second, 15 * time.Second, 24 * time.Second}

	productBinary(t) // built before the clock starts: the scenario times the collector, not the build
	fe := fedouble.New(fedouble.Config{
		User: "collector", Password: "chaos-pw", RecordTruth: true,
		// 2000 profiles live 10 s at 200 queries/s; with StarRocks' default 500 they live 2.5 s,
		// shorter than a few consecutive failed attempts under these fault rates.
		ProfileReserved: 2000,
		Faults:          fedouble.Faults{ServerError: 0.10, Truncate: 0.05, Stall: 0.005, StallFor: 3 * time.Second},
	})
	feSrv := httptest.NewServer(fe)
	defer feSrv.Close()

	s3h := &flakyHandler{next: gofakes3.New(s3mem.New()).Server()}
	s3Srv := httptest.NewServer(s3h)
	defer s3Srv.Close()
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s3Srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("lake")}); err != nil {
		t.Fatal(err)
	}

	stateDir := t.TempDir()
	logPath := filepath.Join(t.TempDir(), "collector.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	argv, _ := json.Marshal(append([]string{"collect", "--cluster", "chaos", "--fe-hosts", feSrv.URL, "--fe-user", "collector",
		"--sink", "s3://lake/starrocks-query-profiles", "--s3-endpoint", s3Srv.URL, "--s3-path-style",
		"--state-dir", stateDir, "--poll-interval", "500ms", "--flush-interval", "1s", "--spill-after", "2s",
		"--request-timeout", "5s", "--metrics-addr", "", "--log-format", "json"}, extraArgs...))
	runs := &collectorRuns{t: t, argv: argv, log: logFile, env: []string{"SRCTL_FE_PASSWORD=chaos-pw",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true"}}

	t0 := time.Now()
	wctx, wcancel := context.WithTimeout(context.Background(), workloadFor)
	defer wcancel()
	var started int
	var wg sync.WaitGroup
	wg.Go(func() {
		w := &fedouble.Workload{FEs: []*fedouble.FE{fe}, QPS: qps, FailRate: 0.05, ProfileBytes: 3000,
			MaxProfileDelay: 1500 * time.Millisecond, MaxRuntime: 200 * time.Millisecond, Seed: 42}
		started = w.Run(wctx)
	})
	go func() {
		time.Sleep(s3DownAt)
		s3h.down.Store(true)
		time.Sleep(s3DownFor)
		s3h.down.Store(false)
	}()

	// Spare segments come and go (a rotation takes one up): whether one was ever seen says that
	// the journal recycled.
	var sawSpare atomic.Bool
	wg.Go(func() { // ends with the workload, at the latest
		for wctx.Err() == nil && !sawSpare.Load() {
			if m, _ := filepath.Glob(filepath.Join(stateDir, "journal", "spare-*")); len(m) > 0 {
				sawSpare.Store(true)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	cmd := runs.killAndRestart(t0, killAt)
	wg.Wait()
	ended := fe.Stats().Ended

	// Let the last collector catch up (profiles retried, spills replayed), then stop it cleanly.
	deadline := time.Now().Add(45 * time.Second)
	var recs []lakehouse.ProfileRecord
	for time.Now().Before(deadline) {
		recs = readBucket(t, objstore.NewS3(s3c, "lake", "starrocks-query-profiles"))
		if distinct(recs) >= ended {
			break
		}
		time.Sleep(time.Second)
	}
	time.Sleep(2 * time.Second)
	if err := runs.stop(cmd); err != nil {
		t.Errorf("collector did not exit 0 on SIGTERM: %v\n%s", err, tail(logPath))
	}
	recs = readBucket(t, objstore.NewS3(s3c, "lake", "starrocks-query-profiles"))

	byID := map[string][]lakehouse.ProfileRecord{}
	for _, r := range recs {
		byID[r.QueryID] = append(byID[r.QueryID], r)
	}
	var lost, failedBad, profileMissing, profileExempt, finished, failed, dups int
	for _, tr := range fe.Truths() {
		if !tr.Ended {
			continue
		}
		rs := byID[tr.ID]
		if len(rs) == 0 {
			lost++
			if lost <= 5 {
				t.Errorf("query %s (%s, ended at eventTime %d) lost", tr.ID, tr.State, tr.EndEventTime)
			}
			continue
		}
		dups += len(rs) - 1
		switch tr.State {
		case "FAILED":
			failed++
			if rs[0].ErrorMessage != tr.ErrorMessage || rs[0].State != "FAILED" {
				failedBad++
			}
		case "FINISHED":
			finished++
			if !tr.HasProfile || tr.ProfileAvailableAt.IsZero() {
				continue
			}
			if !runs.sawProfile(tr, profileAvail) {
				profileExempt++
				continue
			}
			ok := false
			for _, r := range rs {
				ok = ok || (r.ProfileStatus == "ok" && r.ProfileText == tr.Profile())
			}
			if !ok {
				profileMissing++
				if profileMissing <= 5 {
					t.Errorf("query %s: profile was available from %s (evicted %s) but is not in the output (status %s)",
						tr.ID, tr.ProfileAvailableAt.Format("15:04:05.000"), tr.ProfileEvictedAt.Format("15:04:05.000"), rs[0].ProfileStatus)
				}
			}
		}
	}
	t.Logf("chaos: %d queries started, %d ended (%d FINISHED, %d FAILED); %d records, %d duplicates (%.2f%%); lost %d; FAILED without error %d; profiles missing %d (exempt: available < %s while a collector ran: %d)",
		started, ended, finished, failed, len(recs), dups, 100*float64(dups)/float64(max(1, len(recs))), lost, failedBad, profileMissing, profileAvail, profileExempt)
	st := fe.Stats()
	t.Logf("FE double: %d query_detail requests, %d profile requests, %d injected faults, %d profile 404s", st.QueryDetailRequests, st.ProfileRequests, st.Faults, st.Profile404s)
	if lost > 0 || failedBad > 0 || profileMissing > 0 {
		keep := filepath.Join(os.TempDir(), "srctl-chaos-collector.log")
		os.WriteFile(keep, []byte(readFile(logPath)), 0o644)
		t.Errorf("collector log kept in %s; tail:\n%s", keep, tail(logPath))
	}
	if ended < int(qps*workloadFor.Seconds()*0.9) {
		t.Errorf("workload ended only %d queries", ended)
	}
	if !strings.Contains(readFile(logPath), "spilled") {
		t.Error("the S3 outage never made the collector spill")
	}
	if sawSpare.Load() != recycles {
		t.Errorf("spare journal segments seen: %v, want %v (%v)", sawSpare.Load(), recycles, extraArgs)
	}
	if strings.Contains(readFile(logPath), "chaos-pw") {
		t.Error("the FE password appears in the collector's log")
	}
}

// collectorRuns starts `srctl collect` as real processes (the product binary) and
// records when each one ran, for tests that kill and restart it.
type collectorRuns struct {
	t    *testing.T
	argv []byte   // JSON of the srctl arguments
	env  []string // added to the environment
	log  *os.File // stdout and stderr of every process
	mu   sync.Mutex
	up   []interval
	// peakRSS is the largest VmHWM of a collector process, read before each is stopped.
	peakRSS int64
}

// notePeak records cmd's peak resident memory.
func (r *collectorRuns) notePeak(cmd *exec.Cmd) {
	if peak, err := testenv.ProcessPeakRSS(cmd.Process.Pid); err == nil {
		r.mu.Lock()
		r.peakRSS = max(r.peakRSS, peak)
		r.mu.Unlock()
	}
}

func (r *collectorRuns) start() *exec.Cmd {
	var argv []string
	if err := json.Unmarshal(r.argv, &argv); err != nil {
		r.t.Fatal(err)
	}
	cmd := srctlCommand(r.t, argv...) // the product binary: its peak RSS is what the test bounds
	cmd.Env = append(os.Environ(), r.env...)
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.up = append(r.up, interval{from: time.Now()})
	r.mu.Unlock()
	return cmd
}

func (r *collectorRuns) stopped() {
	r.mu.Lock()
	r.up[len(r.up)-1].to = time.Now()
	r.mu.Unlock()
}

// killAndRestart starts a collector, SIGKILLs it at each offset from t0 and starts the next;
// it returns the last one, running.
func (r *collectorRuns) killAndRestart(t0 time.Time, killAt []time.Duration) *exec.Cmd {
	cmd := r.start()
	for _, at := range killAt {
		time.Sleep(time.Until(t0.Add(at)))
		r.notePeak(cmd)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		r.stopped()
		time.Sleep(300 * time.Millisecond)
		cmd = r.start()
	}
	return cmd
}

// stop ends cmd with SIGTERM and returns its exit error.
func (r *collectorRuns) stop(cmd *exec.Cmd) error {
	r.notePeak(cmd)
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	r.stopped()
	return err
}

// sawProfile reports whether tr's profile was available for at least min while a collector
// ran: only then must it be in the output.
func (r *collectorRuns) sawProfile(tr fedouble.Truth, min time.Duration) bool {
	end := tr.ProfileEvictedAt
	if end.IsZero() {
		end = time.Now()
	}
	return overlap(interval{tr.ProfileAvailableAt, end}, r.intervals()) >= min
}

// intervals are the times collectors ran.
func (r *collectorRuns) intervals() []interval {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.up)
}

func overlap(a interval, ups []interval) time.Duration {
	var total time.Duration
	for _, u := range ups {
		to := u.to
		if to.IsZero() {
			to = time.Now()
		}
		from, end := maxTime(a.from, u.from), minTime(a.to, to)
		if end.After(from) {
			total += end.Sub(from)
		}
	}
	return total
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func distinct(recs []lakehouse.ProfileRecord) int {
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r.QueryID] = true
	}
	return len(seen)
}

func readBucket(t *testing.T, b objstore.Bucket) []lakehouse.ProfileRecord {
	t.Helper()
	var out []lakehouse.ProfileRecord
	err := lakehouse.ScanJSONL(context.Background(), b, "", func(rec lakehouse.ProfileRecord, err error) error {
		if err != nil {
			t.Errorf("corrupt line: %v", err)
			return nil
		}
		out = append(out, rec)
		return nil
	})
	if err != nil {
		t.Logf("reading bucket: %v", err)
	}
	return out
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func tail(p string) string {
	b := []byte(readFile(p))
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
