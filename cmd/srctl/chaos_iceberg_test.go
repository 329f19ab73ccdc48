package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/icelake"
	"github.com/srctl/srctl/testdouble/fedouble"
)

// TestChaosIcebergExactlyOnce runs `srctl collect --sink iceberg://...` as a real process
// against the FE double (100 queries/s, 5% HTTP 500s, async profiles) and SIGKILLs it three
// times. Each flush commits records and cursors in one snapshot, so afterwards the table must
// hold every ended query exactly once: no duplicate (cluster, sr_query_id), none lost, and the
// profile of every FINISHED query whose profile was available for 2 s while a collector ran.
func TestChaosIcebergExactlyOnce(t *testing.T) {
	if testing.Short() {
		testenv.SkipOrFail(t, "-short: the Iceberg crash test takes about 40 s")
	}
	const (
		qps          = 100
		workloadFor  = 24 * time.Second
		profileAvail = 2 * time.Second
	)
	killAt := []time.Duration{5 * time.Second, 11 * time.Second, 17 * time.Second}
	productBinary(t) // built before the clock starts: the scenario times the collector, not the build
	fe := fedouble.New(fedouble.Config{User: "collector", Password: "crash-pw", RecordTruth: true, ProfileReserved: 2000,
		Faults: fedouble.Faults{ServerError: 0.05}})
	feSrv := httptest.NewServer(fe)
	defer feSrv.Close()

	lakeDir, stateDir := t.TempDir(), t.TempDir()
	logPath := filepath.Join(t.TempDir(), "collector.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	table := "iceberg://local/srctl.profiles"
	argv, _ := json.Marshal([]string{"collect", "--cluster", "crash", "--fe-hosts", feSrv.URL, "--fe-user", "collector",
		"--sink", table, "--lake-dir", lakeDir, "--state-dir", stateDir, "--poll-interval", "500ms",
		"--flush-interval", "1s", "--metrics-addr", "", "--log-format", "json"})
	runs := &collectorRuns{t: t, argv: argv, log: logFile, env: []string{"SRCTL_FE_PASSWORD=crash-pw"}}

	t0 := time.Now()
	wctx, wcancel := context.WithTimeout(context.Background(), workloadFor)
	defer wcancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		w := &fedouble.Workload{FEs: []*fedouble.FE{fe}, QPS: qps, FailRate: 0.05, ProfileBytes: 2000,
			MaxProfileDelay: time.Second, MaxRuntime: 200 * time.Millisecond, Seed: 7}
		w.Run(wctx)
	})
	cmd := runs.killAndRestart(t0, killAt)
	wg.Wait()
	ended := fe.Stats().Ended

	lake, err := icelake.Open(context.Background(), icelake.Config{Dir: lakeDir})
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	u, _ := lakehouse.ParseTableURI(table)
	read := func() []lakehouse.ProfileRecord {
		var out []lakehouse.ProfileRecord
		err := lake.ReadProfiles(context.Background(), u.Ident(), time.Time{}, time.Time{}, func(rs []lakehouse.ProfileRecord) error {
			out = append(out, rs...)
			return nil
		})
		if err != nil {
			t.Logf("reading the table: %v", err)
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	var recs []lakehouse.ProfileRecord
	for time.Now().Before(deadline) {
		if recs = read(); distinct(recs) >= ended {
			break
		}
		time.Sleep(time.Second)
	}
	time.Sleep(2 * time.Second)
	if err := runs.stop(cmd); err != nil {
		t.Errorf("collector did not exit 0 on SIGTERM: %v\n%s", err, tail(logPath))
	}
	recs = read()

	byKey := map[string][]lakehouse.ProfileRecord{}
	for _, r := range recs {
		byKey[r.Cluster+"/"+r.QueryID] = append(byKey[r.Cluster+"/"+r.QueryID], r)
	}
	var lost, dups, profileMissing, exempt int
	for _, tr := range fe.Truths() {
		if !tr.Ended {
			continue
		}
		rs := byKey["crash/"+tr.ID]
		if len(rs) == 0 {
			lost++
			if lost <= 5 {
				t.Errorf("query %s (%s) lost", tr.ID, tr.State)
			}
			continue
		}
		if len(rs) > 1 {
			dups++
			if dups <= 5 {
				t.Errorf("query %s is in the table %d times", tr.ID, len(rs))
			}
		}
		if tr.State != "FINISHED" || !tr.HasProfile || tr.ProfileAvailableAt.IsZero() {
			continue
		}
		if !runs.sawProfile(tr, profileAvail) {
			exempt++
			continue
		}
		if rs[0].ProfileStatus != "ok" || rs[0].ProfileText != tr.Profile() {
			profileMissing++
			if profileMissing <= 5 {
				t.Errorf("query %s: profile available but not in the table (status %s)", tr.ID, rs[0].ProfileStatus)
			}
		}
	}
	t.Logf("iceberg crash test: %d queries ended; %d rows; duplicates %d, lost %d, profiles missing %d (exempt %d); %d collector runs",
		ended, len(recs), dups, lost, profileMissing, exempt, len(runs.intervals()))
	if ended < int(qps*workloadFor.Seconds()*0.9) {
		t.Errorf("workload ended only %d queries", ended)
	}
	if lost > 0 || dups > 0 || profileMissing > 0 {
		t.Errorf("collector log tail:\n%s", tail(logPath))
	}
}
