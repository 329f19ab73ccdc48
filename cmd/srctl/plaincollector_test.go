//go:build !shadowonly

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/srctl/srctl/collector"
	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/testdouble/fedouble"
)

// plainCollectorEnv (a JSON plainCollectorSpec) makes the test binary a plain collector:
// BenchmarkCollectFloor's floor, what the input and output alone of a collector with a journal
// cost on the machine, as the plain relay is srctl shadow's. It polls each FE for query details
// every second, fetches the profile of every query that ended (a second later, as srctl collect
// does), appends the profile's bytes to a journal segment (64 MiB files, an fsync every 100 ms),
// and every second reads what is synced back and writes it to new files of the sink, 500 profiles
// each (temporary file, fsync, rename), then deletes the segments whose profiles are all in the sink. Nothing is
// decoded beyond the ids, nothing encoded, no metric scanned, no detail journaled: the floor, not
// a collector. It serves srctl collect's records-written counter and Go's allocation counters on
// Metrics, and runs until SIGTERM.
const plainCollectorEnv = "SRCTL_TEST_AS_PLAIN_COLLECTOR"

type plainCollectorSpec struct {
	Hosts   []string // FE doubles, host:port
	Dir     string   // holds journal/ and sink/
	Metrics string   // listen address of /metrics
}

func runPlainCollector(spec string) int {
	var s plainCollectorSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, plainCollectorEnv, err)
		return 2
	}
	pc, err := newPlainCollector(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, plainCollectorEnv, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := pc.run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, plainCollectorEnv, err)
		return 1
	}
	return 0
}

// plainLoc is where a profile is in the journal.
type plainLoc struct {
	seg int
	off int64
	n   int
}

type plainCollector struct {
	spec   plainCollectorSpec
	client *http.Client
	// srctl collect's defaults: the journal's segment size and the profile fetches per FE.
	segmentBytes int64
	fetchers     int

	mu      sync.Mutex
	seg     int      // the segment appended to
	f       *os.File // its file
	size    int64    // its length
	pending []plainLoc
	readers map[int]*os.File
	live    map[int]int // segment -> profiles in it not yet in the sink

	synced  atomic.Int64 // the active segment's synced length, with syncSeg
	syncSeg atomic.Int64
	written atomic.Int64 // profiles in the sink
	files   int
}

func newPlainCollector(s plainCollectorSpec) (*plainCollector, error) {
	for _, d := range []string{"journal", "sink"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	defaults := collector.DefaultConfig()
	pc := &plainCollector{spec: s, readers: map[int]*os.File{}, live: map[int]int{},
		segmentBytes: defaults.JournalSegmentBytes, fetchers: defaults.MaxFetches,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}}
	if err := pc.openSegment(1); err != nil {
		return nil, err
	}
	return pc, nil
}

func (pc *plainCollector) segName(seg int) string {
	return filepath.Join(pc.spec.Dir, "journal", fmt.Sprintf("%08d.seg", seg))
}

// openSegment starts segment seg; pc.mu is held (or the collector is not running yet).
func (pc *plainCollector) openSegment(seg int) error {
	f, err := os.OpenFile(pc.segName(seg), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if pc.f != nil {
		pc.f.Sync() // the old segment's tail, which the syncer will not see again
		pc.f.Close()
	}
	pc.seg, pc.f, pc.size = seg, f, 0
	return nil
}

func (pc *plainCollector) run(ctx context.Context) error {
	ln, err := net.Listen("tcp", pc.spec.Metrics)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(pc.serveMetrics)}
	go srv.Serve(ln)
	defer srv.Close()

	var wg sync.WaitGroup
	for _, h := range pc.spec.Hosts {
		ids := make(chan plainFetch, 1<<16) // this FE's ended queries, for its fetchers
		wg.Go(func() { pc.poll(ctx, h, ids) })
		for range pc.fetchers {
			wg.Go(func() { pc.fetch(ctx, h, ids) })
		}
	}
	wg.Go(func() { pc.syncLoop(ctx) })
	wg.Go(func() { pc.writeLoop(ctx) })
	<-ctx.Done()
	wg.Wait()
	return nil
}

// poll reads the FE's query details every second and hands the id of each ended query to the
// fetchers a second after the poll.
func (pc *plainCollector) poll(ctx context.Context, host string, q chan<- plainFetch) {
	cursor := time.Now().Add(-time.Second).UnixMilli() * 1_000_000
	var body bytes.Buffer
	every(ctx, time.Second, func() {
		status, err := pc.get(ctx, "http://"+host+"/api/query_detail?event_time="+strconv.FormatInt(cursor, 10), &body)
		if err != nil || status != http.StatusOK {
			return
		}
		var ids []plainFetch
		cursor = max(cursor, endedQueries(body.Bytes(), func(id []byte) { ids = append(ids, plainFetch{id: string(id)}) }))
		time.AfterFunc(time.Second, func() {
			for _, id := range ids {
				select {
				case q <- id:
				case <-ctx.Done():
					return
				}
			}
		})
	})
}

// every calls f every d until ctx is done.
func every(ctx context.Context, d time.Duration, f func()) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			f()
		}
	}
}

// endedQueries calls ended with the id of every FINISHED or FAILED entry of a query_detail
// answer (the FE double's field order: queryId, eventTime, ..., state) and returns the last
// eventTime.
func endedQueries(body []byte, ended func(id []byte)) int64 {
	var last int64
	for {
		i := bytes.Index(body, []byte(`"queryId":"`))
		if i < 0 {
			return last
		}
		body = body[i+len(`"queryId":"`):]
		end := bytes.IndexByte(body, '"')
		if end < 0 {
			return last
		}
		id := body[:end]
		if t := bytes.Index(body, []byte(`"eventTime":`)); t >= 0 {
			rest := body[t+len(`"eventTime":`):]
			if n := bytes.IndexAny(rest, ",}"); n >= 0 {
				if v, err := strconv.ParseInt(string(rest[:n]), 10, 64); err == nil {
					last = max(last, v)
				}
			}
		}
		s := bytes.Index(body, []byte(`"state":"`))
		if s < 0 {
			return last
		}
		state := body[s+len(`"state":"`):]
		if bytes.HasPrefix(state, []byte("FINISHED")) || bytes.HasPrefix(state, []byte("FAILED")) {
			ended(id)
		}
	}
}

// get reads the body of url into buf (reset first) and returns the status.
func (pc *plainCollector) get(ctx context.Context, url string, buf *bytes.Buffer) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := pc.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	return resp.StatusCode, err
}

// plainFetch is a profile to fetch and how often it was not there yet.
type plainFetch struct {
	id       string
	notFound int
}

// fetch gets profiles and journals them; a profile not there yet is asked for again a second
// later, up to five times.
func (pc *plainCollector) fetch(ctx context.Context, host string, q chan plainFetch) {
	var buf bytes.Buffer // this fetcher's, reused: a floor allocates nothing per profile
	for {
		var it plainFetch
		select {
		case <-ctx.Done():
			return
		case it = <-q:
		}
		status, err := pc.get(ctx, "http://"+host+"/api/profile?query_id="+it.id, &buf)
		switch {
		case err != nil:
		case status == http.StatusOK:
			buf.WriteByte('\n')
			pc.append(buf.Bytes())
		case status == http.StatusNotFound && it.notFound < 5:
			it.notFound++
			time.AfterFunc(time.Second, func() {
				select {
				case q <- it:
				case <-ctx.Done():
				}
			})
		}
	}
}

func (pc *plainCollector) append(b []byte) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.size >= pc.segmentBytes {
		if err := pc.openSegment(pc.seg + 1); err != nil {
			panic(err)
		}
	}
	if _, err := pc.f.Write(b); err != nil {
		panic(err)
	}
	pc.pending = append(pc.pending, plainLoc{seg: pc.seg, off: pc.size, n: len(b)})
	pc.size += int64(len(b))
	pc.live[pc.seg]++
}

// syncLoop makes the journal durable every 100 ms, outside the appenders' lock.
func (pc *plainCollector) syncLoop(ctx context.Context) {
	every(ctx, 100*time.Millisecond, func() {
		pc.mu.Lock()
		f, seg, size := pc.f, pc.seg, pc.size
		pc.mu.Unlock()
		if f.Sync() == nil { // a segment closed meanwhile was synced by openSegment
			pc.synced.Store(size)
			pc.syncSeg.Store(int64(seg))
		}
	})
}

// plainBatch is srctl collect's --batch-size in the benchmarks: a sink file holds at most this
// many profiles.
const plainBatch = 500

// writeLoop moves what is synced into the sink every second, in files of plainBatch profiles.
func (pc *plainCollector) writeLoop(ctx context.Context) {
	var out []byte // one batch's bytes, reused
	every(ctx, time.Second, func() {
		syncSeg, synced := int(pc.syncSeg.Load()), pc.synced.Load()
		pc.mu.Lock()
		n := 0
		for n < len(pc.pending) {
			l := pc.pending[n]
			if l.seg >= syncSeg && l.off+int64(l.n) > synced {
				break // not durable yet
			}
			n++
		}
		ready := append([]plainLoc(nil), pc.pending[:n]...)
		pc.pending = pc.pending[n:]
		pc.mu.Unlock()
		for len(ready) > 0 {
			batch := ready[:min(plainBatch, len(ready))]
			ready = ready[len(batch):]
			out = pc.writeBatch(out[:0], batch)
		}
	})
}

// writeBatch reads batch back from the journal into out, writes it to a new sink file, and
// deletes the segments all of whose profiles are in the sink.
func (pc *plainCollector) writeBatch(out []byte, batch []plainLoc) []byte {
	for _, l := range batch {
		r := pc.readers[l.seg]
		if r == nil {
			var err error
			if r, err = os.Open(pc.segName(l.seg)); err != nil {
				panic(err)
			}
			pc.readers[l.seg] = r
		}
		out = append(out, make([]byte, l.n)...) // grows to a batch once, then reuses
		if _, err := r.ReadAt(out[len(out)-l.n:], l.off); err != nil {
			panic(err)
		}
	}
	pc.files++
	if err := objstore.WriteFileAtomic(filepath.Join(pc.spec.Dir, "sink", fmt.Sprintf("part-%08d.jsonl", pc.files)), out); err != nil {
		panic(err)
	}
	pc.written.Add(int64(len(batch)))
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for _, l := range batch {
		pc.live[l.seg]--
	}
	for seg, n := range pc.live {
		if n == 0 && seg < pc.seg {
			delete(pc.live, seg)
			if r := pc.readers[seg]; r != nil {
				r.Close()
				delete(pc.readers, seg)
			}
			os.Remove(pc.segName(seg))
		}
	}
	return out
}

func (pc *plainCollector) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(w, "srctl_collect_records_written_total %d\ngo_memstats_mallocs_total %d\ngo_memstats_alloc_bytes_total %d\n",
		pc.written.Load(), ms.Mallocs, ms.TotalAlloc)
}

// TestPlainCollectorWritesEveryProfile holds BenchmarkCollectFloor's floor to its claim: against
// an FE double it journals and writes to its sink the profile of every query that ended, each
// once, so that its CPU is that of all the input and output a collector must do.
func TestPlainCollectorWritesEveryProfile(t *testing.T) {
	fe := fedouble.New(fedouble.Config{ProfileReserved: 10_000})
	srv := httptest.NewServer(fe)
	defer srv.Close()
	dir := t.TempDir()
	pc, err := newPlainCollector(plainCollectorSpec{Hosts: []string{strings.TrimPrefix(srv.URL, "http://")},
		Dir: dir, Metrics: testenv.FreeAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pc.run(ctx) }()
	defer func() { cancel(); <-done }()

	load, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	w := &fedouble.Workload{FEs: []*fedouble.FE{fe}, QPS: 100, ProfileBytes: 4000, FailRate: 0.1,
		MaxProfileDelay: 200 * time.Millisecond, MaxRuntime: 20 * time.Millisecond, Seed: 1}
	w.Run(load)
	ended := fe.Stats().Ended
	if ended < 50 {
		t.Fatalf("the workload ended only %d queries", ended)
	}
	deadline := time.Now().Add(30 * time.Second)
	for pc.written.Load() < int64(ended) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := pc.written.Load(); got != int64(ended) {
		t.Fatalf("%d profiles in the sink, want the %d queries that ended", got, ended)
	}
	// The profiles' own text has lines: count them by their ids, each once.
	ids := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(dir, "sink", "*.jsonl"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range profileIDLine.FindAllSubmatch(b, -1) {
			ids[string(m[1])]++
		}
	}
	if len(ids) != ended {
		t.Fatalf("%d distinct profiles in %d sink files, want %d", len(ids), len(files), ended)
	}
	for id, n := range ids {
		if n != 1 {
			t.Fatalf("profile %s is %d times in the sink", id, n)
		}
	}
}

var profileIDLine = regexp.MustCompile(`(?m)^\s*- Query ID: (\S+)$`)
