// Package fedouble is a TEST DOUBLE of the StarRocks FE HTTP API: it is not StarRocks. It emulates
// the two endpoints srctl collect reads, following ../shared/starrocks/README.md sections 1-2:
//
//   - GET /api/query_detail?event_time=N (v1, bare JSON array) and /api/v2/query_detail (wrapped
//     {"code":"0","message":"OK","result":[...]}): every cached entry with eventTime > N, ascending;
//     eventTime = wallclock_ms*1_000_000 + a counter within the millisecond; each query appears as
//     RUNNING when it starts and again FINISHED/FAILED when it ends; numbers -1 mean "not set";
//     entries are kept for Retention (30 s) and evicted on a 5 s tick, so they live 30-35 s.
//   - GET /api/profile?query_id=ID (raw text) and /api/v2/profile (wrapped): profiles become
//     available asynchronously after a delay (404 "query id ID not found." until then), are kept
//     in a FIFO of ProfileReserved (500) entries, and are then evicted.
//   - HTTP Basic auth; 401 with WWW-Authenticate: Basic otherwise.
//
// Faults (5xx, stalls, truncated bodies, connection resets, forced profile 404s, clock jumps,
// wiping the cache) are injected per request for unit, integration and chaos tests. The double
// also records ground truth — which queries ran, how they ended, when each profile was available —
// so tests can check that a collector lost nothing it could have seen.
package fedouble

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config of one emulated FE.
type Config struct {
	User, Password  string        // Basic auth; empty User disables auth
	Retention       time.Duration // query_detail_cache_time_nanosecond, default 30s
	EvictEvery      time.Duration // eviction tick, default 5s
	ProfileReserved int           // profile_info_reserved_num, default 500
	V1Only          bool          // emulate an FE without the /api/v2 endpoints (404 there)
	Clock           func() time.Time
	Faults          Faults
	// RecordTruth keeps a Truth per query for the whole life of the FE (tests); off, the FE's
	// memory is bounded by its caches (benchmarks).
	RecordTruth bool
}

// Faults are probabilities per request (0..1) and their parameters. Safe to change while serving
// through SetFaults.
type Faults struct {
	ServerError   float64       // HTTP 500 with a JSON error body
	Truncate      float64       // full Content-Length announced, half the body sent, connection cut
	Reset         float64       // connection closed without a response
	Stall         float64       // response delayed by StallFor
	StallFor      time.Duration // default 3s
	Profile404    float64       // profile request answered 404 although the profile exists
	ProfileStatus int           // if non-zero, every profile request gets this status (e.g. 401)
}

// Query is one query the workload runs on this FE.
type Query struct {
	ID, SQL, Database, User string
	Failed                  bool   // ends FAILED with ErrorMessage
	ErrorMessage            string //
	HasProfile              bool   // a profile is produced when the query ends
	ProfileDelay            time.Duration
	ProfileBytes            int // approximate profile size
	ScanRows, ScanBytes     int64
	CPUCostNs, MemCostBytes int64
}

// Truth is what happened to one query, for checking a collector's output.
type Truth struct {
	ID, State, ErrorMessage string
	SQL                     string
	EndEventTime            int64
	Ended                   bool
	HasProfile              bool
	ProfileBytes            int
	ProfileAvailableAt      time.Time // zero until the profile was built
	ProfileEvictedAt        time.Time // zero while still held
}

// Profile is the text the FE serves for t's query (deterministic; tests compare against it).
func (t *Truth) Profile() string { return GenerateProfile(t.ID, t.SQL, t.State, t.ProfileBytes) }

type entry struct {
	eventTime int64
	at        time.Time // wall time of the event, for eviction
	json      []byte
}

type pendingProfile struct {
	at time.Time
	t  *Truth
}

// FE is one emulated frontend. It is an http.Handler; Begin and End drive its workload.
type FE struct {
	cfg Config

	mu          sync.Mutex
	faults      Faults
	entries     []entry // in insertion order; sorted unless the clock went back
	sorted      bool
	lastMs      int64
	counter     int64
	lastEvict   time.Time
	running     map[string]*running
	truths      map[string]*Truth
	pendingProf []pendingProfile // ordered by at
	profFIFO    []*Truth         // available profiles, oldest first
	profiles    map[string]*Truth
	rng         *rand.Rand
	stats       Stats
}

// Stats counts what the FE served.
type Stats struct {
	QueryDetailRequests, ProfileRequests, Faults, Profile404s, Unauthorized int
	Began, Ended, ProfilesBuilt, ProfilesEvicted                            int
}

type running struct {
	q     Query
	start time.Time
	t     *Truth
}

// New returns an FE with cfg's defaults filled in.
func New(cfg Config) *FE {
	if cfg.Retention == 0 {
		cfg.Retention = 30 * time.Second
	}
	if cfg.EvictEvery == 0 {
		cfg.EvictEvery = 5 * time.Second
	}
	if cfg.ProfileReserved == 0 {
		cfg.ProfileReserved = 500
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Faults.StallFor == 0 {
		cfg.Faults.StallFor = 3 * time.Second
	}
	return &FE{
		cfg: cfg, faults: cfg.Faults, sorted: true,
		running: map[string]*running{}, truths: map[string]*Truth{}, profiles: map[string]*Truth{},
		rng: rand.New(rand.NewPCG(rand.Uint64(), 1)),
	}
}

// SetFaults replaces the fault settings.
func (f *FE) SetFaults(fl Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl.StallFor == 0 {
		fl.StallFor = 3 * time.Second
	}
	f.faults = fl
}

// Stats returns a snapshot of the counters.
func (f *FE) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Truths returns what happened to every query so far (RecordTruth must be set).
func (f *FE) Truths() []Truth {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maintain(f.cfg.Clock())
	out := make([]Truth, 0, len(f.truths))
	for _, t := range f.truths {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].EndEventTime < out[j].EndEventTime })
	return out
}

// WipeCache drops every cached entry and profile, as an FE restart does.
func (f *FE) WipeCache() {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.cfg.Clock()
	f.entries = nil
	for _, t := range f.profFIFO {
		t.ProfileEvictedAt = now
	}
	f.profFIFO, f.profiles = nil, map[string]*Truth{}
}

// nextEventTime must be called with mu held.
func (f *FE) nextEventTime(now time.Time) int64 {
	ms := now.UnixMilli()
	switch {
	case ms == f.lastMs:
		f.counter++
	default:
		if ms < f.lastMs {
			f.sorted = false // the FE's clock went back: later entries have smaller eventTimes
		}
		f.lastMs, f.counter = ms, 0
	}
	return ms*1_000_000 + f.counter
}

// Begin records a query start: a RUNNING entry.
func (f *FE) Begin(q Query) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.cfg.Clock()
	f.maintain(now)
	t := &Truth{ID: q.ID, State: "RUNNING", SQL: q.SQL, HasProfile: q.HasProfile, ProfileBytes: q.ProfileBytes}
	r := &running{q: q, start: now, t: t}
	f.running[q.ID] = r
	if f.cfg.RecordTruth {
		f.truths[q.ID] = t
	}
	f.stats.Began++
	f.appendEntry(now, r, "RUNNING")
}

// End records the query's terminal entry and schedules its profile.
func (f *FE) End(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.running[id]
	if !ok {
		return
	}
	delete(f.running, id)
	now := f.cfg.Clock()
	f.maintain(now)
	state := "FINISHED"
	if r.q.Failed {
		state = "FAILED"
	}
	et := f.appendEntry(now, r, state)
	r.t.State, r.t.ErrorMessage, r.t.EndEventTime, r.t.Ended = state, r.q.ErrorMessage, et, true
	f.stats.Ended++
	if r.q.HasProfile {
		p := pendingProfile{at: now.Add(r.q.ProfileDelay), t: r.t}
		i := sort.Search(len(f.pendingProf), func(i int) bool { return f.pendingProf[i].at.After(p.at) })
		f.pendingProf = append(f.pendingProf, pendingProfile{})
		copy(f.pendingProf[i+1:], f.pendingProf[i:])
		f.pendingProf[i] = p
	}
}

// wireEntry is one query_detail element as the FE's Gson writes it: -1 for unset numbers, null
// (omitted) for unset objects.
type wireEntry struct {
	QueryID        string   `json:"queryId"`
	EventTime      int64    `json:"eventTime"`
	IsQuery        bool     `json:"isQuery"`
	RemoteIP       string   `json:"remoteIP"`
	ConnID         int64    `json:"connId"`
	StartTime      int64    `json:"startTime"`
	EndTime        int64    `json:"endTime"`
	Latency        int64    `json:"latency"`
	PendingTime    int64    `json:"pendingTime"`
	NetTime        int64    `json:"netTime"`
	NetComputeTime int64    `json:"netComputeTime"`
	State          string   `json:"state"`
	Database       string   `json:"database"`
	SQL            string   `json:"sql"`
	User           string   `json:"user"`
	ErrorMessage   *string  `json:"errorMessage,omitempty"`
	ResourceGroup  *string  `json:"resourceGroupName,omitempty"`
	ScanRows       int64    `json:"scanRows"`
	ScanBytes      int64    `json:"scanBytes"`
	ReturnRows     int64    `json:"returnRows"`
	CPUCostNs      int64    `json:"cpuCostNs"`
	MemCostBytes   int64    `json:"memCostBytes"`
	SpillBytes     int64    `json:"spillBytes"`
	CacheMissRatio *float64 `json:"cacheMissRatio,omitempty"`
	Warehouse      string   `json:"warehouse"`
	Digest         string   `json:"digest"`
	Catalog        string   `json:"catalog"`
	QueryFeMemory  int64    `json:"queryFeMemory"`
	QuerySource    string   `json:"querySource"`
}

func (f *FE) appendEntry(now time.Time, r *running, state string) int64 {
	et := f.nextEventTime(now)
	q := r.q
	w := wireEntry{
		QueryID: q.ID, EventTime: et, IsQuery: true, RemoteIP: "10.0.0.7", ConnID: 42,
		StartTime: r.start.UnixMilli(), EndTime: -1, Latency: -1, PendingTime: -1, NetTime: -1, NetComputeTime: -1,
		State: state, Database: q.Database, SQL: q.SQL, User: q.User,
		ScanRows: -1, ScanBytes: -1, ReturnRows: -1, CPUCostNs: -1, MemCostBytes: -1, SpillBytes: -1,
		Warehouse: "default_warehouse", Catalog: "default_catalog", QuerySource: "EXTERNAL",
	}
	if state != "RUNNING" {
		w.EndTime = now.UnixMilli()
		w.Latency = now.Sub(r.start).Milliseconds()
		w.PendingTime, w.NetTime, w.NetComputeTime = 0, 1, w.Latency
		w.ScanRows, w.ScanBytes, w.ReturnRows = q.ScanRows, q.ScanBytes, 1
		w.CPUCostNs, w.MemCostBytes, w.SpillBytes = q.CPUCostNs, q.MemCostBytes, 0
		rg := "default_wg"
		w.ResourceGroup = &rg
		ratio := 12.5
		w.CacheMissRatio = &ratio
		if state == "FAILED" {
			msg := q.ErrorMessage
			w.ErrorMessage = &msg
		}
	}
	b, _ := json.Marshal(w)
	f.entries = append(f.entries, entry{eventTime: et, at: now, json: b})
	return et
}

// maintain applies eviction and profile availability up to now. Called with mu held.
func (f *FE) maintain(now time.Time) {
	// Eviction runs on a tick, so entries live between Retention and Retention+EvictEvery.
	if tick := now.Truncate(f.cfg.EvictEvery); tick.After(f.lastEvict) {
		f.lastEvict = tick
		cut := tick.Add(-f.cfg.Retention)
		kept := f.entries[:0:0]
		for i, e := range f.entries {
			if f.sorted && !e.at.Before(cut) {
				kept = append(kept, f.entries[i:]...)
				break
			}
			if !e.at.Before(cut) {
				kept = append(kept, e)
			}
		}
		f.entries = kept
	}
	for len(f.pendingProf) > 0 && !f.pendingProf[0].at.After(now) {
		p := f.pendingProf[0]
		f.pendingProf = f.pendingProf[1:]
		p.t.ProfileAvailableAt = p.at
		f.profiles[p.t.ID] = p.t
		f.profFIFO = append(f.profFIFO, p.t)
		f.stats.ProfilesBuilt++
		for len(f.profFIFO) > f.cfg.ProfileReserved {
			old := f.profFIFO[0]
			f.profFIFO = f.profFIFO[1:]
			delete(f.profiles, old.ID)
			old.ProfileEvictedAt = now
			f.stats.ProfilesEvicted++
		}
	}
}

// ServeHTTP implements the FE endpoints.
func (f *FE) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	now := f.cfg.Clock()
	f.maintain(now)
	faults := f.faults
	roll := func(p float64) bool { return p > 0 && f.rng.Float64() < p }
	reset, serverErr, truncate, stall := roll(faults.Reset), roll(faults.ServerError), roll(faults.Truncate), roll(faults.Stall)
	prof404 := roll(faults.Profile404)
	f.mu.Unlock()

	// The FE sets Date from its own clock; a collector can use it to see the FE's clock jump.
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	if f.cfg.User != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != f.cfg.User || p != f.cfg.Password {
			f.count(func(s *Stats) { s.Unauthorized++ })
			w.Header().Set("WWW-Authenticate", `Basic realm=""`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
	}
	if stall {
		select {
		case <-time.After(faults.StallFor):
		case <-r.Context().Done():
			return
		}
	}
	if reset || serverErr {
		f.count(func(s *Stats) { s.Faults++ })
	}
	if reset {
		hijackClose(w)
		return
	}
	if serverErr {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"code":"500","message":"injected internal error","result":null}`)
		return
	}
	var status int
	var body []byte
	var ctype string
	switch r.URL.Path {
	case "/api/query_detail":
		status, body, ctype = f.queryDetail(r, false)
	case "/api/v2/query_detail":
		status, body, ctype = f.queryDetail(r, true)
	case "/api/profile":
		status, body, ctype = f.profile(r, false, prof404)
	case "/api/v2/profile":
		status, body, ctype = f.profile(r, true, prof404)
	default:
		http.NotFound(w, r)
		return
	}
	if status == http.StatusNotFound && body == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if truncate && len(body) > 1 {
		f.count(func(s *Stats) { s.Faults++ })
		w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler) // cuts the connection: the client sees an unexpected EOF
	}
	w.Write(body)
}

func (f *FE) count(fn func(*Stats)) {
	f.mu.Lock()
	fn(&f.stats)
	f.mu.Unlock()
}

func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // RST, like a crashed peer
			}
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (f *FE) queryDetail(r *http.Request, v2 bool) (int, []byte, string) {
	if v2 && f.cfg.V1Only {
		return http.StatusNotFound, nil, ""
	}
	f.count(func(s *Stats) { s.QueryDetailRequests++ })
	n, err := strconv.ParseInt(r.URL.Query().Get("event_time"), 10, 64)
	if err != nil {
		return http.StatusBadRequest, []byte("not valid parameter"), "text/plain"
	}
	user := r.URL.Query().Get("user")
	f.mu.Lock()
	var b strings.Builder
	if v2 {
		b.WriteString(`{"code":"0","message":"OK","result":`)
	}
	b.WriteByte('[')
	first := true
	write := func(e entry) {
		if user != "" && !strings.Contains(string(e.json), `"user":`+strconv.Quote(user)) {
			return
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(e.json)
	}
	if f.sorted {
		i := sort.Search(len(f.entries), func(i int) bool { return f.entries[i].eventTime > n })
		for _, e := range f.entries[i:] {
			write(e)
		}
	} else {
		// After a clock jump back the queue is no longer ordered; the FE filters every entry.
		for _, e := range f.entries {
			if e.eventTime > n {
				write(e)
			}
		}
	}
	f.mu.Unlock()
	b.WriteByte(']')
	if v2 {
		b.WriteByte('}')
	}
	return http.StatusOK, []byte(b.String()), "application/json"
}

func (f *FE) profile(r *http.Request, v2, force404 bool) (int, []byte, string) {
	if v2 && f.cfg.V1Only {
		return http.StatusNotFound, nil, ""
	}
	id := r.URL.Query().Get("query_id")
	f.mu.Lock()
	f.stats.ProfileRequests++
	forced := f.faults.ProfileStatus
	t := f.profiles[id]
	if t == nil || force404 {
		f.stats.Profile404s++
	}
	f.mu.Unlock()
	if forced != 0 {
		return forced, []byte(http.StatusText(forced)), "text/plain"
	}
	if t == nil || force404 {
		msg := fmt.Sprintf("query id %s not found.", id)
		if v2 {
			b, _ := json.Marshal(map[string]any{"code": "404", "message": msg, "result": nil})
			return http.StatusNotFound, b, "application/json"
		}
		return http.StatusNotFound, []byte(msg), "text/plain"
	}
	text := t.Profile()
	if v2 {
		b, _ := json.Marshal(map[string]any{"code": "0", "message": "OK", "result": text})
		return http.StatusOK, b, "application/json"
	}
	return http.StatusOK, []byte(text), "text/plain; charset=utf-8"
}
