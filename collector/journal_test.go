package collector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/testdouble/fedouble"
)

func appendAndWait(t *testing.T, j *journal, fe string, detail *QueryDetail, rec *lakehouse.ProfileRecord) (seq int64) {
	t.Helper()
	done := make(chan struct{})
	var err error
	if detail != nil {
		err = j.appendDetail(fe, detail, func() { close(done) })
	} else {
		err = j.appendRecord(fe, rec, func(s int64, _ journalLoc) { seq = s; close(done) })
	}
	if err != nil {
		t.Fatal(err)
	}
	j.syncNow() // rather than wait for the sync loop's tick
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("append never became durable")
	}
	return seq
}

// TestJournalRecovery: a reopened journal gives back the details without a record (to fetch)
// and the records above the uploaded position (to upload), ignores a torn last line and skips a
// damaged one.
func TestJournalRecovery(t *testing.T) {
	dir := t.TempDir()
	j, rec, err := openJournal(dir, journalOptions{recycle: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.details)+len(rec.records) != 0 {
		t.Fatalf("a new journal recovered %+v", rec)
	}
	for _, id := range []string{"q1", "q2", "q3"} {
		appendAndWait(t, j, "fe-0:8030", &QueryDetail{QueryID: id, EventTime: 100, State: "FINISHED"}, nil)
	}
	s1 := appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: "q1", EventTime: 100, FEHost: "fe-0:8030"})
	s2 := appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: "q2", EventTime: 101, FEHost: "fe-0:8030", ProfileText: "p2"})
	j.uploaded([]int64{s1})
	pos := &journalPos{ID: j.id, Through: j.through()}
	if pos.Through != s1 {
		t.Fatalf("through %d after uploading %d of %d, %d", pos.Through, s1, s1, s2)
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	// A crash mid-append leaves a torn line; a disk error a damaged one before it.
	segs, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	f, err := os.OpenFile(segs[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{garbage}\n{\"seq\":99,\"kind\":\"record\",\"fe\":\"fe-0:8030\",\"record\":{\"sr_query_id\":\"q3\"")
	f.Close()

	j2, rec, err := openJournal(dir, journalOptions{recycle: true}, pos, &journalPos{ID: "another-journal", Through: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.close()
	if j2.id != j.id {
		t.Fatalf("journal id changed: %s → %s", j.id, j2.id)
	}
	if len(rec.details) != 1 || rec.details[0].detail.QueryID != "q3" {
		t.Errorf("recovered details %+v, want q3 only (q1, q2 have records; the torn q3 record does not count)", rec.details)
	}
	if len(rec.records) != 1 || rec.records[0].queryID != "q2" || rec.records[0].seq != s2 {
		t.Fatalf("recovered records %+v, want q2 (q1 is uploaded)", rec.records)
	}
	r, err := j2.read(rec.records[0].loc)
	if err != nil || r.ProfileText != "p2" {
		t.Fatalf("read back %+v, %v", r, err)
	}
	if len(rec.ids["fe-0:8030"]) != 5 {
		t.Errorf("ids %v, want the 3 details and 2 records", rec.ids)
	}
	// New entries continue the sequence.
	if s := appendAndWait(t, j2, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: "q3"}); s <= s2 {
		t.Errorf("sequence restarted: %d after %d", s, s2)
	}
}

// TestJournalRecoversExactlyWhatIsOpen: with tiny segments (a few entries each) deleted as uploads
// go, a journal reopened at any point gives back exactly the details whose record was never
// journaled and the records not uploaded, whatever order details, records and uploads came in.
// (Deleting a record's segment while its detail's earlier segment stayed made a restart fetch
// and commit 260 queries again.)
// It runs with open details carried forward as soon as their segment's records are uploaded,
// and with a few segments held for them first (the default holds 256 MiB); with segments
// deleted, recycled, and recycled in every other run only (a rollout and its rollback).
func TestJournalRecoversExactlyWhatIsOpen(t *testing.T) {
	for _, hold := range []int64{0, 3 * 2000} {
		for _, recycle := range []string{"off", "on", "alternating"} {
			t.Run(fmt.Sprintf("hold=%d/recycle=%s", hold, recycle), func(t *testing.T) { testJournalRecoversExactlyWhatIsOpen(t, hold, recycle) })
		}
	}
}

func testJournalRecoversExactlyWhatIsOpen(t *testing.T, hold int64, recycle string) {
	setJournalSizes(t, 2000, hold) // two to four entries a segment: details and records share them
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(16, 1))
	open := map[string]bool{}         // details without a record
	notUploaded := map[int64]string{} // record seq -> query id
	var j *journal
	runs := 0
	reopen := func() {
		t.Helper()
		runs++
		var pos *journalPos
		if j != nil {
			pos = &journalPos{ID: j.id, Through: j.through()}
			if err := j.close(); err != nil {
				t.Fatal(err)
			}
			// Rolled back to a version from before recycling instead, the collector would act
			// on the same entries.
			uploads, fetches := recoverLikeEarlierVersions(t, dir, pos.Through)
			if want := slices.Sorted(maps.Values(notUploaded)); !slices.Equal(slices.Sorted(slices.Values(uploads)), want) {
				t.Fatalf("a version before recycling would upload %v, want %v", uploads, want)
			}
			if want := slices.Sorted(maps.Keys(open)); !slices.Equal(slices.Sorted(slices.Values(fetches)), want) {
				t.Fatalf("a version before recycling would fetch %v, want %v", fetches, want)
			}
		}
		var rec *recovered
		var err error
		if j, rec, err = openJournal(dir, journalOptions{recycle: recycle == "on" || recycle == "alternating" && runs%2 == 0}, pos); err != nil {
			t.Fatal(err)
		}
		gotOpen := map[string]bool{}
		for _, d := range rec.details {
			gotOpen[d.detail.QueryID] = true
		}
		if !maps.Equal(gotOpen, open) {
			t.Fatalf("recovered open details %v, want %v", slices.Sorted(maps.Keys(gotOpen)), slices.Sorted(maps.Keys(open)))
		}
		gotRecs := map[int64]string{}
		for _, r := range rec.records {
			gotRecs[r.seq] = r.queryID
		}
		if !maps.Equal(gotRecs, notUploaded) {
			t.Fatalf("recovered records %v, want %v", gotRecs, notUploaded)
		}
	}
	reopen()
	next := 0
	for step := range 300 {
		switch r := rng.IntN(10); {
		case r < 4 || len(open) == 0:
			id := fmt.Sprintf("q%03d", next)
			next++
			appendAndWait(t, j, "fe-0:8030", &QueryDetail{QueryID: id, EventTime: int64(step)}, nil)
			open[id] = true
		case r < 7:
			id := slices.Sorted(maps.Keys(open))[rng.IntN(len(open))]
			seq := appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: id, EventTime: int64(step)})
			delete(open, id)
			notUploaded[seq] = id
		case len(notUploaded) > 0:
			// The writer uploads in journal order (the position is a watermark): the oldest few.
			seqs := slices.Sorted(maps.Keys(notUploaded))
			seqs = seqs[:1+rng.IntN(min(3, len(seqs)))]
			j.uploaded(seqs)
			for _, s := range seqs {
				delete(notUploaded, s)
			}
			j.syncNow() // carried-forward copies become durable, the segments they held go
		}
		if step%25 == 24 {
			reopen()
		}
	}
	segs, _ := j.segments()
	t.Logf("after 300 steps: %d open details, %d records not uploaded, %d segments", len(open), len(notUploaded), len(segs))
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	// Dozens of segments were written; those still needed hold the open details and the records
	// not uploaded, and the segments behind the oldest of them, plus those the hold keeps.
	if len(segs) > 2*(len(open)+len(notUploaded))+2+int(hold/journalSegmentBytes)+1 {
		t.Errorf("%d segments kept for %d open details and %d records: uploaded segments are not deleted", len(segs), len(open), len(notUploaded))
	}
}

// TestRestartResumesFetchesFromTheJournal: the collector stops while profiles are still being
// built; by the restart the FE has evicted the query details, so the queries can only come
// from the journal, and they do, with their profiles.
func TestRestartResumesFetchesFromTheJournal(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{Retention: time.Second, EvictEvery: 100 * time.Millisecond})
	cfg := e.cfg
	cfg.Retention = time.Second
	stop := e.run(t, cfg)
	runWorkload([]*fedouble.FE{e.fe}, 50, 500*time.Millisecond, fedouble.Workload{ProfileBytes: 2000,
		MinProfileDelay: 3 * time.Second, MaxProfileDelay: 3500 * time.Millisecond})
	ended := e.fe.Stats().Ended
	waitFor(t, "details journaled", 10*time.Second, func() bool {
		return counterValue(t, e.reg, "srctl_collect_journaled_total", map[string]string{"kind": "detail"}) >= float64(ended)
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, e.sink)); n == ended {
		t.Fatalf("all %d records written before the stop: the test proves nothing", n)
	}
	time.Sleep(1500 * time.Millisecond) // the FE evicts every query detail
	stop = e.run(t, cfg)
	waitFor(t, "all records", 15*time.Second, func() bool { return len(readAll(t, e.sink)) >= ended })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if dups := checkComplete(t, []*fedouble.FE{e.fe}, readAll(t, e.sink)); dups != 0 {
		t.Errorf("%d duplicates", dups)
	}
	if got := counterValue(t, e.reg, "srctl_collect_entries_seen_total", nil); got != 0 {
		t.Errorf("the restart polled %v entries: the FE should have evicted them all", got)
	}
}

// observeMinute feeds fe a minute of polls from start, one a second, each seeing qps queries
// end, with 500 profiles kept.
func observeMinute(fe *feState, start time.Time, qps int) {
	for i := range 61 {
		fe.observe(start.Add(time.Duration(i)*time.Second), qps*min(i, 1), 500, 0)
	}
}

// TestPollWaitFollowsProfileLifetime: the poll interval shrinks so that a query is seen and
// fetched within half the life of its profile, never below the floor nor above --poll-interval.
func TestPollWaitFollowsProfileLifetime(t *testing.T) {
	c := &Collector{cfg: DefaultConfig()} // --poll-interval 5s, 500 profiles kept
	fe := &feState{}
	start := time.Unix(1000, 0)
	if got := c.pollWait(fe); got != 5*time.Second {
		t.Fatalf("idle FE: %s, want the configured 5s", got)
	}
	// 60 queries/s for a minute: 500 profiles last 8.3 s; half of it minus the profile delay.
	observeMinute(fe, start, 60)
	life, _ := fe.lifetimeAndLag()
	if life < 8*time.Second || life > 9*time.Second {
		t.Fatalf("lifetime %s at 60 queries/s with 500 kept, want about 8.3s", life)
	}
	if got := c.pollWait(fe); got < 3*time.Second || got > 3300*time.Millisecond {
		t.Errorf("poll wait %s, want about 3.2s (8.3s/2 - 1s)", got)
	}
	// A burst to 400/s shortens the lifetime at once; the wait hits the floor.
	fe.observe(start.Add(62*time.Second), 800, 500, 0) // 400/s over 2 s
	if got := c.pollWait(fe); got != minPollInterval {
		t.Errorf("poll wait %s during a burst, want the %s floor", got, minPollInterval)
	}
	// A run's first poll seeds the rate from its entries' event times (a restart returns every
	// query since its cursor): the wait fits the FE's pace at once, not --poll-interval.
	seeded := &feState{}
	seeded.observe(start, 0, 500, 60)
	if got := c.pollWait(seeded); got < 3*time.Second || got > 3300*time.Millisecond {
		t.Errorf("poll wait %s after a first poll showing 60 queries/s, want about 3.2s", got)
	}
	// Without a seed, the first rate measured is taken whole, not averaged with "idle".
	fresh := &feState{}
	fresh.observe(start, 0, 500, 0)
	fresh.observe(start.Add(5*time.Second), 300, 500, 0)
	if life, _ := fresh.lifetimeAndLag(); life < 8*time.Second || life > 9*time.Second {
		t.Errorf("lifetime %s after a first 5 s at 60 queries/s, want about 8.3s", life)
	}
	// Fetchers running late eat into the wait as well.
	fe2 := &feState{}
	observeMinute(fe2, start, 50)
	before := c.pollWait(fe2)
	for range 50 {
		fe2.lagged(2 * time.Second)
	}
	if after := c.pollWait(fe2); before-after < 1900*time.Millisecond {
		t.Errorf("poll wait %s with 2 s of fetch lag, was %s", after, before)
	}
}

// TestPollRetriesFitProfileLifetime: after failed polls the collector retries often enough, within
// the time the queries not yet seen keep their profiles, that a streak of transient errors does
// not cost them; past that time, and for an FE that keeps profiles long, it backs off as usual.
func TestPollRetriesFitProfileLifetime(t *testing.T) {
	c := &Collector{cfg: DefaultConfig()} // --poll-interval 5s, 500 profiles kept
	backoffs := func(n int) []time.Duration {
		var out []time.Duration
		b := time.Duration(0)
		for range n {
			b = nextBackoff(b, 500*time.Millisecond, 5*time.Second)
			out = append(out, b)
		}
		return out
	}
	idle := &feState{}
	for i, b := range backoffs(6) {
		if got := c.pollRetryWait(idle, b, time.Duration(i)*time.Second); got != b {
			t.Errorf("idle FE, error %d: wait %s, want the backoff %s", i+1, got, b)
		}
	}

	busy := &feState{} // 60 queries/s, 500 kept: profiles live about 8.3 s
	observeMinute(busy, time.Unix(1000, 0), 60)
	life, _ := busy.lifetimeAndLag()
	evictsAt := life - profileDelay // the first unseen query's profile starts to go then
	// A streak begins at the regular poll after a good one; each request takes 50 ms.
	since := c.pollWait(busy)
	var tries []time.Duration
	for _, b := range backoffs(20) {
		since += 50 * time.Millisecond
		if since >= evictsAt {
			if got := c.pollRetryWait(busy, b, since); got != b {
				t.Errorf("%s after the last good poll, past the profiles' life: wait %s, want the backoff %s", since, got, b)
			}
			break
		}
		w := c.pollRetryWait(busy, b, since)
		if w < minPollInterval || w > b {
			t.Fatalf("wait %s after %s: want between %s and the backoff %s", w, since, minPollInterval, b)
		}
		tries = append(tries, since)
		since += w
	}
	// With the backoff alone (0.5, 1, 2, 4 s) a fourth error already outlasted the profiles.
	if len(tries) < 6 {
		t.Errorf("only %d retries before the profiles of unseen queries start to be evicted (at %s): %v", len(tries), evictsAt, tries)
	}
}

// TestSlowPollAnswersDoNotStretchTheCadence: polls start every --poll-interval however long the
// FE takes to answer (down to the floor), since what it answers is as old as the request: a
// stalled FE must not add its stall to the time before queries that ended meanwhile are seen.
func TestSlowPollAnswersDoNotStretchTheCadence(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	const stall, every = 300 * time.Millisecond, 800 * time.Millisecond
	var mu sync.Mutex
	var starts []time.Time
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "query_detail") {
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
			time.Sleep(stall)
		}
		e.fe.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)
	cfg := e.cfg
	cfg.FEHosts, cfg.PollInterval = []string{slow.URL}, every
	stop := e.run(t, cfg)
	waitFor(t, "seven polls", 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(starts) >= 7
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var gaps []time.Duration
	for i := 1; i < len(starts); i++ {
		gaps = append(gaps, starts[i].Sub(starts[i-1]))
	}
	slices.Sort(gaps)
	// Timed from the answer the polls would start every 1.1 s; from the request, every 0.8 s.
	if med := gaps[len(gaps)/2]; med > every+stall/2 || med < every-stall/2 {
		t.Errorf("polls start every %s (median of %v), want about %s", med, gaps, every)
	}
}

// TestFinishRateOfAPoll: the pace a poll's terminal entries show, and no guess from too few.
func TestFinishRateOfAPoll(t *testing.T) {
	at := func(n int, every time.Duration, state string) []QueryDetail {
		var ds []QueryDetail
		for i := range n {
			ds = append(ds, QueryDetail{QueryID: fmt.Sprint(i), EventTime: 1_700_000_000_000_000_000 + int64(i)*int64(every), State: state})
		}
		return ds
	}
	steady := append(at(301, time.Second/60, "FINISHED"), at(50, time.Millisecond, "RUNNING")...)
	for _, tc := range []struct {
		name    string
		entries []QueryDetail
		lo, hi  float64
	}{
		{"60/s over 5 s, running entries ignored", steady, 59.9, 60.1},
		{"too few entries", at(minRateSample-1, time.Second, "FINISHED"), 0, 0},
		{"a burst shorter than a second", at(100, time.Millisecond, "FAILED"), 0, 0},
		{"no entries", nil, 0, 0},
		// An FE's event times are outside input: extremes must not overflow into a rate.
		{"event times at int64's ends", append(at(minRateSample, time.Second, "FINISHED"),
			QueryDetail{EventTime: math.MinInt64, State: "FINISHED"}, QueryDetail{EventTime: math.MaxInt64, State: "FINISHED"}), 0, 1e-6},
	} {
		if got := finishRateOf(tc.entries); got < tc.lo || got > tc.hi {
			t.Errorf("%s: %.2f/s, want [%v, %v]", tc.name, got, tc.lo, tc.hi)
		}
	}
}

// TestQueriesOfAnFEThatLeftAreWritten: the journal holds queries of an FE whose profiles were not
// fetched yet; the restarted collector no longer finds that FE (a deleted pod, or --fe-hosts
// changed). Its queries are written, without a profile (fe_gone), instead of waiting forever.
func TestQueriesOfAnFEThatLeftAreWritten(t *testing.T) {
	e := newTestEnv(t, fedouble.Config{})
	cfg := e.cfg
	stop := e.run(t, cfg)
	runWorkload([]*fedouble.FE{e.fe}, 50, 300*time.Millisecond, fedouble.Workload{ProfileBytes: 2000,
		MinProfileDelay: 5 * time.Second, MaxProfileDelay: 6 * time.Second})
	ended := e.fe.Stats().Ended
	waitFor(t, "details journaled", 10*time.Second, func() bool {
		return counterValue(t, e.reg, "srctl_collect_journaled_total", map[string]string{"kind": "detail"}) >= float64(ended)
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	other := fedouble.New(fedouble.Config{User: "collector", Password: "s3cret-pw"})
	srv := httptest.NewServer(other)
	t.Cleanup(srv.Close)
	cfg.FEHosts = []string{srv.URL}
	stop = e.run(t, cfg)
	waitFor(t, "the first FE's queries", 10*time.Second, func() bool { return len(readAll(t, e.sink)) >= ended })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	gone := 0
	for _, r := range readAll(t, e.sink) {
		if r.ProfileStatus == "fe_gone" {
			gone++
		}
	}
	if gone == 0 {
		t.Errorf("no record written as fe_gone")
	}
	got := map[string]bool{}
	for _, r := range readAll(t, e.sink) {
		got[r.QueryID] = true
	}
	for _, tr := range e.fe.Truths() {
		if tr.Ended && !got[tr.ID] {
			t.Errorf("query %s lost", tr.ID)
		}
	}
	t.Logf("%d queries, %d written without profile as fe_gone", ended, gone)
}

// TestJournalDetailLinesAreEntries: detail lines, written and carried forward from their JSON
// without reflection, are byte for byte what encoding journalEntry writes, so that a journal
// of an older or newer collector reads the same.
func TestJournalDetailLinesAreEntries(t *testing.T) {
	setJournalSizes(t, 1, 0) // every append starts a segment: the first one's detail is carried
	dir := t.TempDir()
	j, _, err := openJournal(dir, journalOptions{recycle: true})
	if err != nil {
		t.Fatal(err)
	}
	detailLines := func() []string {
		t.Helper()
		segs, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		slices.Sort(segs)
		var lines []string
		for _, name := range segs {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for l := range strings.Lines(string(b)) {
				if strings.Contains(l, `"kind":"detail"`) {
					lines = append(lines, l)
				}
			}
		}
		return lines
	}
	d := &QueryDetail{QueryID: "q<1>", EventTime: 100, State: "FAILED", User: "bi", SQL: "SELECT \"a\" & 1 < 2\n", ErrorMessage: "é\x01"}
	appendAndWait(t, j, "fe-0:8030", d, nil)
	lines := detailLines()
	s := appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: "other", EventTime: 100})
	j.uploaded([]int64{s}) // the first segment holds only the open detail: it is carried forward
	j.syncNow()
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	lines = append(lines, detailLines()...)
	if len(lines) < 2 {
		t.Fatalf("want the detail and its carried copy, got %d detail lines: %q", len(lines), lines)
	}
	seqs := map[int64]bool{}
	for _, l := range lines {
		var e journalEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		seqs[e.Seq] = true
		want, _ := json.Marshal(journalEntry{Seq: e.Seq, CRC: e.CRC, Kind: "detail", FE: "fe-0:8030", Detail: d})
		if l != string(want)+"\n" {
			t.Errorf("detail line\n got %s\nwant %s", l, want)
		}
		if !lineCRCMatches([]byte(l)) {
			t.Errorf("detail line's crc %d does not match", e.CRC)
		}
	}
	if len(seqs) < 2 {
		t.Errorf("the detail was not carried forward: sequence numbers %v", seqs)
	}
}

// TestJournalHoldsBeforeCarrying: a detail waiting for its profile is not copied forward while the
// journal's closed segments stay under journalHoldBytes; past it, the oldest segment's details
// are carried and the segment goes.
func TestJournalHoldsBeforeCarrying(t *testing.T) {
	setJournalSizes(t, 1, 1<<20) // a segment per entry
	dir := t.TempDir()
	j, _, err := openJournal(dir, journalOptions{recycle: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	carried := 0 // what srctl_collect_journal_details_carried_total counts
	j.onCarry = func(n int) { carried += n }
	appendAndWait(t, j, "fe-0:8030", &QueryDetail{QueryID: "waiting", EventTime: 100}, nil)
	var seqs []int64
	for i := range 5 {
		seqs = append(seqs, appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: fmt.Sprint("done", i), EventTime: 100}))
	}
	j.uploaded(seqs)
	j.syncNow()
	before, _ := j.segments()
	if j.openDetails["fe-0:8030/waiting"].seg != before[0] || len(before) != 6 {
		t.Fatalf("under the hold: segments %v, the detail in %+v; want all 6 kept and the detail where it was", before, j.openDetails["fe-0:8030/waiting"])
	}
	if carried != 0 {
		t.Fatalf("under the hold: %d details counted as carried", carried)
	}
	journalHoldBytes = 1
	j.uploaded(nil)
	j.syncNow()
	j.uploaded(nil) // the copy is durable: the segments behind it go
	after, _ := j.segments()
	if len(after) > 2 || j.openDetails["fe-0:8030/waiting"].seg == before[0] {
		t.Fatalf("over the hold: segments %v (were %v), the detail in %+v", after, before, j.openDetails["fe-0:8030/waiting"])
	}
	if carried != 1 {
		t.Fatalf("over the hold: %d details counted as carried, want 1", carried)
	}
}

// TestJournalRecordJSONIsEncodingJSON: a journaled record (ProfileRecord.AppendJSON, its profile
// text escaped by jsonstr) is byte for byte what a json.Encoder with HTML escaping off writes: the
// JSONL sink copies these bytes as they are.
func TestJournalRecordJSONIsEncodingJSON(t *testing.T) {
	e := getRecordEncoder() // one encoder for all: its buffers are reused
	for _, rec := range []*lakehouse.ProfileRecord{
		{QueryID: "q1", EventTime: 100},
		{QueryID: "q2", SQLText: `SELECT "profile_text":"" FROM t WHERE a < 1 & b > 2`, ProfileText: "Query:\n  Summary:\n     - Query ID: q2\n\t\"x\" \\ <é> \u2028 \xff",
			ErrorMessage: "e", Tags: map[string]string{"route": "/a"}},
		{QueryID: "q3", ProfileText: fedouble.GenerateProfile("q3", "SELECT 1", "FINISHED", 40_000), FEHost: "fe-0:8030"},
		// Escapes that outgrow the room made for the text (\u0001 is six bytes for one).
		{QueryID: "q4", ProfileText: strings.Repeat("\x01\"a\n", 20_000)},
	} {
		b, err := e.encode(rec)
		got := string(b)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(rec)
		if got+"\n" != want.String() {
			t.Errorf("record %s:\n got %.300s\nwant %.300s", rec.QueryID, got, want.String())
		}
	}
}

// TestJournalCarriesARecoveredDetail: after a restart, a detail still waiting for its profile is
// carried from where recovery found it, byte for byte (the carry copies it from the segment, not
// from memory), and a second restart still recovers it once.
func TestJournalCarriesARecoveredDetail(t *testing.T) {
	setJournalSizes(t, 1, 0) // a segment per entry
	dir := t.TempDir()
	j, _, err := openJournal(dir, journalOptions{recycle: true})
	if err != nil {
		t.Fatal(err)
	}
	d := &QueryDetail{QueryID: "waiting", EventTime: 100, State: "FINISHED", SQL: "SELECT 1 /* \"x\" */", Latency: new(int64(7))}
	appendAndWait(t, j, "fe-0:8030", d, nil)
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	j, rec, err := openJournal(dir, journalOptions{recycle: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.details) != 1 {
		t.Fatalf("recovered %d details, want 1", len(rec.details))
	}
	from := j.openDetails["fe-0:8030/waiting"].seg
	var seqs []int64
	for i := range 2 { // the second starts a segment after the detail's
		seqs = append(seqs, appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: fmt.Sprint("other", i), EventTime: 100}))
	}
	j.uploaded(seqs) // the detail's segment is closed and its records uploaded: the detail is carried
	j.syncNow()
	if to := j.openDetails["fe-0:8030/waiting"].seg; to <= from {
		t.Fatalf("the recovered detail was not carried: still in segment %d", to)
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(d)
	n := 0
	segs, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	for _, name := range segs {
		b, _ := os.ReadFile(name)
		for l := range strings.Lines(string(b)) {
			if strings.Contains(l, `"kind":"detail"`) {
				n++
				if !strings.HasSuffix(l, `,"detail":`+string(want)+"}\n") {
					t.Errorf("carried line %s, want the detail %s", l, want)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no detail line left")
	}
	j, rec, err = openJournal(dir, journalOptions{recycle: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if len(rec.details) != 1 || rec.details[0].detail.QueryID != "waiting" || *rec.details[0].detail.Latency != 7 {
		t.Fatalf("after the carry, recovered %+v", rec.details)
	}
}

// TestAppendsDoNotWaitForFsync: while an fsync is stuck (a busy disk), fetchers still append
// their records, segments still rotate, and nothing is acknowledged before it is durable. The
// fsync used to run under the journal's lock: every fetcher waited on it.
func TestAppendsDoNotWaitForFsync(t *testing.T) {
	oldSeg, oldSync := journalSegmentBytes, fsyncFile
	journalSegmentBytes = 4000 // a rotation every few records
	stuck, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	fsyncFile = func(f *os.File) error {
		once.Do(func() { close(stuck); <-release })
		return f.Sync()
	}
	t.Cleanup(func() { journalSegmentBytes, fsyncFile = oldSeg, oldSync })

	j, _, err := openJournal(t.TempDir(), journalOptions{recycle: true})
	if err != nil {
		t.Fatal(err)
	}
	var acked atomic.Int64
	ack := func(int64, journalLoc) { acked.Add(1) }
	rec := func(i int) *lakehouse.ProfileRecord {
		return &lakehouse.ProfileRecord{QueryID: fmt.Sprintf("q%d", i), FEHost: "fe-0:8030", ProfileText: strings.Repeat("x", 1500)}
	}
	if err := j.appendRecord("fe-0:8030", rec(0), ack); err != nil {
		t.Fatal(err)
	}
	syncDone := make(chan struct{})
	go func() { defer close(syncDone); j.syncNow() }()
	<-stuck
	appended := make(chan error)
	go func() {
		for i := 1; i <= 10; i++ { // ~15 KB: rotates the 4,000-byte segments three times
			if err := j.appendRecord("fe-0:8030", rec(i), ack); err != nil {
				appended <- err
				return
			}
		}
		appended <- nil
	}()
	select {
	case err := <-appended:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("appends waited for a stuck fsync")
	}
	if n := acked.Load(); n != 0 {
		t.Fatalf("%d records acknowledged while their fsync was stuck", n)
	}
	close(release)
	<-syncDone
	j.syncNow()
	if n := acked.Load(); n != 11 {
		t.Fatalf("%d of 11 records acknowledged after the fsync came back", n)
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	j2, got, err := openJournal(j.dir, journalOptions{recycle: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.close()
	if len(got.records) != 11 {
		t.Errorf("the reopened journal holds %d records, want 11", len(got.records))
	}
}

// TestJournalSequenceSurvivesEmptyRestarts: an idle collector restarted twice finds only the
// empty segment its first restart opened (the one before was uploaded and deleted). Its sequence
// must go on from there: numbered from 1 again, new records were at or below the checkpoint and
// the next recovery took them for uploaded.
func TestJournalSequenceSurvivesEmptyRestarts(t *testing.T) {
	dir := t.TempDir()
	j, _, err := openJournal(dir, journalOptions{recycle: true})
	if err != nil {
		t.Fatal(err)
	}
	appendAndWait(t, j, "fe-0:8030", &QueryDetail{QueryID: "q1", EventTime: 100, State: "FINISHED"}, nil)
	last := appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: "q1", EventTime: 100})
	j.uploaded([]int64{last})
	pos := &journalPos{ID: j.id, Through: j.through()}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	for restart := range 2 {
		j, rec, err := openJournal(dir, journalOptions{recycle: true}, pos)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.details)+len(rec.records) != 0 {
			t.Fatalf("restart %d recovered %+v from an uploaded journal", restart, rec)
		}
		j.uploaded(nil) // the writer's first ack: the uploaded segment before the open one goes
		j.syncNow()
		if err := j.close(); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	j, _, err = openJournal(dir, journalOptions{recycle: true}, pos)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if s := appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: "q2", EventTime: 200}); s <= last {
		t.Fatalf("sequence went back to %d after %d (segments before this restart: %v): a checkpoint at %d covers it", s, last, segs, pos.Through)
	}
}

// TestJournalRecyclesSegments: segments done with are written over (kept as spares, at most
// journalSpareSegments), and what a recycled segment still holds of its old life is never
// recovered: not its old lines, and not a new line that a crash cut short and old bytes
// continued (it is valid JSON; its CRC is what tells).
func TestJournalRecyclesSegments(t *testing.T) {
	setJournalSizes(t, 4000, 0) // a few records a segment
	dir := t.TempDir()
	j, _, err := openJournal(dir, journalOptions{recycle: true})
	if err != nil {
		t.Fatal(err)
	}
	profile := func(c byte) string { return strings.Repeat(string(c), 900) }
	var seqs []int64
	for i := range 12 { // first life: three segments or so, all uploaded
		id := fmt.Sprintf("old%02d", i)
		appendAndWait(t, j, "fe-0:8030", &QueryDetail{QueryID: id, EventTime: 100}, nil)
		seqs = append(seqs, appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: id, EventTime: 100, ProfileText: profile('o')}))
	}
	j.uploaded(seqs)
	j.syncNow() // makes spares of the segments done with
	spares, _ := filepath.Glob(filepath.Join(dir, spareSegmentPrefix+"*"))
	if len(spares) != journalSpareSegments {
		t.Fatalf("spares %v after uploading every segment but the open one, want %d", spares, journalSpareSegments)
	}
	var last int64
	for i := range 4 { // second life: fills the open segment and goes on in a recycled one
		id := fmt.Sprintf("new%02d", i)
		appendAndWait(t, j, "fe-0:8030", &QueryDetail{QueryID: id, EventTime: 200}, nil)
		last = appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: id, EventTime: 200, ProfileText: profile('n')})
	}
	pos := &journalPos{ID: j.id, Through: j.through()}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, spareSegmentPrefix+"*")); len(left) >= len(spares) {
		t.Fatalf("no spare was written over: %v", left)
	}
	// The recycled segment: the newest, with old lines after the new ones.
	segs, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	slices.Sort(segs)
	name := segs[len(segs)-1]
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	newEnd := bytes.LastIndex(b, []byte(`"sr_query_id":"new`))
	oldAt := bytes.Index(b, []byte(`"sr_query_id":"old`))
	if newEnd < 0 || oldAt < newEnd {
		t.Fatalf("%s is not a recycled segment with its old life after the new one", name)
	}

	check := func(wantRecords []string, wantDetails []string) {
		t.Helper()
		j, rec, err := openJournal(dir, journalOptions{recycle: true}, pos)
		if err != nil {
			t.Fatal(err)
		}
		defer j.close()
		var gotRecords, gotDetails []string
		for _, r := range rec.records {
			gotRecords = append(gotRecords, r.queryID)
		}
		for _, d := range rec.details {
			gotDetails = append(gotDetails, d.detail.QueryID)
		}
		if !slices.Equal(gotRecords, wantRecords) || !slices.Equal(gotDetails, wantDetails) {
			t.Fatalf("recovered records %v and details %v, want %v and %v", gotRecords, gotDetails, wantRecords, wantDetails)
		}
		if s := appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: "next"}); s <= last {
			t.Fatalf("sequence %d after %d", s, last)
		}
	}
	check([]string{"new00", "new01", "new02", "new03"}, nil)
	// A version from before recycling (a rollback) reads every segment to its end: it must find
	// what this one does, and nothing of the old life to fetch or upload again.
	if uploads, fetches := recoverLikeEarlierVersions(t, dir, pos.Through); !slices.Equal(uploads, []string{"new00", "new01", "new02", "new03", "next"}) || len(fetches) != 0 {
		t.Fatalf("a version before recycling would upload %v and fetch %v, want the new life's records (and the one appended since) and no fetch", uploads, fetches)
	}

	// No newline is left of the old life: after the new lines, it is the torn end of the file.
	newLifeEnd := newEnd + bytes.IndexByte(b[newEnd:], '\n') + 1
	if i := bytes.IndexByte(b[newLifeEnd:], '\n'); i >= 0 {
		t.Fatalf("a newline of the old life is left at %d: %.100q", newLifeEnd+i, b[newLifeEnd+i-50:])
	}

	// A crash cut the last new line inside its profile. In a segment recycled as versions of
	// 2026-12-06 did (old newlines left), an old line's profile and newline could follow:
	// spliced, they make a valid line of the new number, which only the CRC tells.
	b, _ = os.ReadFile(name)
	lastLine := bytes.LastIndex(b[:newEnd], []byte("\n")) + 1
	cut := newEnd + bytes.Index(b[newEnd:], []byte("nnnn")) + 2
	oldAt = bytes.Index(b[cut:], []byte(`"sr_query_id":"old`)) + cut
	oldText := oldAt + bytes.Index(b[oldAt:], []byte("oooo")) + 2
	oldLineEnd := oldText + bytes.Index(b[oldText:], []byte("}}"+string(newlineOverwrite))) + 2
	spliced := append(append(append([]byte(nil), b[lastLine:cut]...), b[oldText:oldLineEnd]...), '\n')
	var dd detailDecoder
	if e, ok := scanJournalLine(&dd, spliced); !ok || e.seq != last {
		t.Fatalf("the spliced line does not read as record %d: %.200s", last, spliced)
	}
	if lineCRCMatches(spliced) {
		t.Fatal("the spliced line's CRC matches")
	}
	// In this version's recycled segments what follows the cut is old bytes up to the end of
	// the file, with no newline.
	damaged := append(b[:cut:cut], b[oldText:]...)
	if err := os.WriteFile(name, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	// new03's record is gone (it was never acknowledged after such a crash); its detail is
	// fetched again. Nothing of the old life comes back, with this version or an earlier one.
	if uploads, fetches := recoverLikeEarlierVersions(t, dir, pos.Through); !slices.Equal(uploads, []string{"new00", "new01", "new02", "next"}) || !slices.Equal(fetches, []string{"new03"}) {
		t.Fatalf("after the crash a version before recycling would upload %v and fetch %v, want new00-02 and next, and new03", uploads, fetches)
	}
	check([]string{"new00", "new01", "new02", "next"}, []string{"new03"})
}

// setJournalSizes sets the segment size and the hold of uploaded segments for one test.
func setJournalSizes(t *testing.T, segment, hold int64) {
	oldSeg, oldHold := journalSegmentBytes, journalHoldBytes
	journalSegmentBytes, journalHoldBytes = segment, hold
	t.Cleanup(func() { journalSegmentBytes, journalHoldBytes = oldSeg, oldHold })
}

// recoverLikeEarlierVersions reads a journal as srctl did before 2026-12-06, when segments were
// never written over: every segment to its end, every line that parses an entry (no CRC, no
// stop at lower sequence numbers), a line without its newline the torn end. It returns what
// such a version would act on: the records above through, which it uploads, and the details
// no record follows, whose profiles it fetches (query ids, in journal order).
func recoverLikeEarlierVersions(t *testing.T, dir string, through int64) (uploads, fetches []string) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	slices.Sort(segs) // names are zero-padded first sequence numbers
	var dd detailDecoder
	for _, name := range segs {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for len(b) > 0 {
			n := bytes.IndexByte(b, '\n')
			if n < 0 {
				break
			}
			e, ok := scanJournalLine(&dd, b[:n+1])
			b = b[n+1:]
			switch {
			case ok && e.kind == "record" && e.record:
				fetches = slices.DeleteFunc(fetches, func(id string) bool { return id == e.queryID })
				if e.seq > through {
					uploads = append(uploads, e.queryID)
				}
			case ok && e.kind == "detail" && e.detail != nil && !slices.Contains(fetches, e.detail.QueryID):
				fetches = append(fetches, e.detail.QueryID) // a carried detail counts once
			}
		}
	}
	return uploads, fetches
}

// TestJournalRecyclesOnlyWhatItCanMakeUnreadable: a segment a crash left between done with and
// spare (its lines perhaps still readable) is deleted when the journal opens, and so are segments
// done with that were on disk when it opened (where their lines start is not known): neither is
// ever written over.
func TestJournalRecyclesOnlyWhatItCanMakeUnreadable(t *testing.T) {
	setJournalSizes(t, 2000, 0)
	dir := t.TempDir()
	unfinished := filepath.Join(dir, recyclingPrefix+"00000000000000000001")
	if err := os.WriteFile(unfinished, []byte(`{"seq":1,"kind":"detail","fe":"fe-0:8030","detail":{"queryId":"stale"}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	j, _, err := openJournal(dir, journalOptions{recycle: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(unfinished); err == nil {
		t.Fatal("a segment left half recycled is still there")
	}
	var ids []string
	for i := range 12 { // several segments, none uploaded
		id := fmt.Sprintf("q%02d", i)
		ids = append(ids, id)
		appendAndWait(t, j, "fe-0:8030", &QueryDetail{QueryID: id, EventTime: 100}, nil)
		appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: id, ProfileText: strings.Repeat("p", 900)})
	}
	pos := &journalPos{ID: j.id, Through: j.through()}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	before, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	pos.Through = 1 << 40 // then everything was uploaded, and the checkpoint says so
	j, rec, err := openJournal(dir, journalOptions{recycle: true}, pos)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if len(rec.records) != 0 || len(rec.details) != 0 || len(before) < 3 {
		t.Fatalf("recovered %d records and %d details from %d segments, want none from several", len(rec.records), len(rec.details), len(before))
	}
	j.uploaded(nil)
	j.syncNow()
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, name := range left {
		if base := filepath.Base(name); strings.HasPrefix(base, spareSegmentPrefix) || strings.HasPrefix(base, recyclingPrefix) || slices.Contains(before, name) {
			t.Errorf("%s is still there: a segment recovered and done with must be deleted", base)
		}
	}
}

// TestJournalSparesOfAnotherJournalAreNotReused: a spare whose old lines are numbered above the
// segment it would become (a journal started again in a directory that kept an older one's
// spares) is deleted, not written over: recovery could not tell its old lines from new ones.
func TestJournalSparesOfAnotherJournalAreNotReused(t *testing.T) {
	older := t.TempDir()
	j, _, err := openJournal(older, journalOptions{recycle: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	j.close()
	// Numbered from a million on: a journal that ran for long.
	j, _, err = openJournal(older, journalOptions{recycle: true}, &journalPos{ID: j.id, Through: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	appendAndWait(t, j, "fe-0:8030", &QueryDetail{QueryID: "stale", EventTime: 100}, nil)
	high := appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: "stale", EventTime: 100})
	j.close()
	segs, _ := filepath.Glob(filepath.Join(older, "*.jsonl"))
	slices.Sort(segs)
	b, err := os.ReadFile(segs[len(segs)-1])
	if err != nil || !bytes.Contains(b, []byte(`"stale"`)) {
		t.Fatalf("no stale lines to plant: %v", err)
	}
	dir := t.TempDir()
	spare := filepath.Join(dir, fmt.Sprintf("%s%020d", spareSegmentPrefix, high+1))
	if err := os.WriteFile(spare, b, 0o644); err != nil {
		t.Fatal(err)
	}

	j, _, err = openJournal(dir, journalOptions{recycle: true}) // a new journal: its first segment is numbered 1
	if err != nil {
		t.Fatal(err)
	}
	s := appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: "new", EventTime: 200})
	pos := &journalPos{ID: j.id, Through: 0}
	j.close()
	if _, err := os.Stat(spare); err == nil {
		t.Errorf("the spare numbered above the new journal is still there")
	}
	j, rec, err := openJournal(dir, journalOptions{recycle: true}, pos)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if len(rec.records) != 1 || rec.records[0].queryID != "new" || rec.records[0].seq != s || len(rec.details) != 0 {
		t.Fatalf("recovered records %+v and details %+v, want record %d (new) only", rec.records, rec.details, s)
	}
}

// TestJournalWithoutRecyclingDeletes: with recycling off (--journal-recycle=false), segments done with are
// deleted, and spares a run with it left behind are deleted when the journal opens.
func TestJournalWithoutRecyclingDeletes(t *testing.T) {
	setJournalSizes(t, 2000, 0)
	dir := t.TempDir()
	left := filepath.Join(dir, spareSegmentPrefix+"00000000000000000001")
	if err := os.WriteFile(left, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	j, _, err := openJournal(dir, journalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	var seqs []int64
	for i := range 12 {
		id := fmt.Sprintf("q%02d", i)
		appendAndWait(t, j, "fe-0:8030", &QueryDetail{QueryID: id, EventTime: 100}, nil)
		seqs = append(seqs, appendAndWait(t, j, "fe-0:8030", nil, &lakehouse.ProfileRecord{QueryID: id, ProfileText: strings.Repeat("p", 900)}))
	}
	j.uploaded(seqs)
	if spares, _ := filepath.Glob(filepath.Join(dir, spareSegmentPrefix+"*")); len(spares) != 0 {
		t.Fatalf("spares %v with recycling off", spares)
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "*.jsonl")); len(segs) != 1 {
		t.Fatalf("segments %v after every record was uploaded, want the open one", segs)
	}
}

// TestIdleRecordEncodersAreBounded: the encoders kept between records stay within their count
// and byte bounds however many are given back, and the byte count follows what is taken out.
func TestIdleRecordEncodersAreBounded(t *testing.T) {
	drain := func() {
		for {
			select {
			case e := <-recordEncoders:
				idleEncoderBytes.Add(-int64(cap(e.out)))
			default:
				return
			}
		}
	}
	drain()
	defer drain()
	if got := idleEncoderBytes.Load(); got != 0 {
		t.Fatalf("%d idle bytes with no encoder idle", got)
	}
	// Small encoders: the count bounds them.
	for range 100 {
		(&recordEncoder{out: make([]byte, 0, 1<<10)}).release()
	}
	if n := len(recordEncoders); n != cap(recordEncoders) || cap(recordEncoders) != 64 {
		t.Fatalf("%d of %d kept, want all 64", n, cap(recordEncoders))
	}
	if got := idleEncoderBytes.Load(); got != 64<<10 {
		t.Fatalf("idle bytes %d, want %d", got, 64<<10)
	}
	drain()
	// Large ones: the bytes bound them.
	for range 100 {
		(&recordEncoder{out: make([]byte, 0, 400<<10)}).release()
	}
	if got, n := idleEncoderBytes.Load(), len(recordEncoders); got > maxIdleEncoderBytes || n != maxIdleEncoderBytes/(400<<10) {
		t.Fatalf("%d encoders and %d bytes kept, want %d and at most %d", n, got, maxIdleEncoderBytes/(400<<10), maxIdleEncoderBytes)
	}
	// Too large to keep at all.
	before := len(recordEncoders)
	drain()
	(&recordEncoder{out: make([]byte, 0, keptEncoderBytes+1)}).release()
	if len(recordEncoders) != 0 || idleEncoderBytes.Load() != 0 {
		t.Fatalf("an encoder over keptEncoderBytes was kept (%d before the drain)", before)
	}
	// Taking one out takes its bytes out of the count.
	(&recordEncoder{out: make([]byte, 0, 5000)}).release()
	if e := getRecordEncoder(); cap(e.out) != 5000 || idleEncoderBytes.Load() != 0 {
		t.Fatalf("got an encoder of %d bytes, %d idle bytes left", cap(e.out), idleEncoderBytes.Load())
	}
}

// TestLastNewlineEnd: recovery reads a segment up to just past its last newline, found from the
// end in chunks, so that a tail without one (a torn line, or a recycled segment's old life) is
// never assembled in memory.
func TestLastNewlineEnd(t *testing.T) {
	for _, c := range []struct {
		name string
		text string
		want int64
	}{
		{"empty", "", 0},
		{"no newline", strings.Repeat("#", 600<<10), 0},
		{"ends with one", "{}\n{}\n", 6},
		{"a tail longer than a chunk", "{}\n" + strings.Repeat("#", 600<<10), 3},
		{"a tail shorter than a chunk", strings.Repeat("x", 600<<10) + "\n###", 600<<10 + 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "seg")
			if err := os.WriteFile(name, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got, err := lastNewlineEnd(f); err != nil || got != c.want {
				t.Fatalf("lastNewlineEnd = %d, %v; want %d", got, err, c.want)
			}
		})
	}
}
