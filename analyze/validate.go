package analyze

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/proxylog"
)

// ValidateConfig says how to compare a window before a change with one after it. The zero
// value of a field takes its default.
type ValidateConfig struct {
	Rules   *fingerprint.Rules
	GroupBy string
	// Before and After are the windows, half-open [Since, Until) (a zero end is open). With one
	// log stream (ValidateInputs.Logs) they split it; with two log sets they filter each set.
	Before, After lakehouse.Window
	ChangeAt      time.Time // for the report only
	Alpha         float64   // false discovery rate / error level; default 0.05
	// MinExecutions is what each window needs for any verdict (default 20); the tail quantiles
	// need more, as in diff (MinPairsFor).
	MinExecutions int
	Threshold     float64 // smallest relative change worth reporting; default 0.10
	MinDeltaMS    float64 // smallest absolute change worth reporting, ms (0: none)
	// TrafficFactor flags endpoints whose executions per hour moved by this factor or more;
	// default 2.
	TrafficFactor float64
	// Target limits the comparison to one target: "primary", "shadow", or "" / "both" for every
	// target the logs have.
	Target       string
	Endpoint     string // drill into this group
	Workers      int
	ChunkBytes   int
	MaxLineBytes int
	Progress     *proxylog.Progress
	// PrimaryCluster and ShadowCluster are the cluster names of each target's profile records
	// (defaults "primary" and "shadow"); ProfileSlack widens the windows for them (10 minutes).
	PrimaryCluster, ShadowCluster string
	ProfileSlack                  time.Duration
}

// ValidateInputs are the logs to compare: one stream split by the config's windows (Logs), or
// two sets (Before, After). Profiles, when not nil, feed the why column.
type ValidateInputs struct {
	Logs          LogSource
	Before, After LogSource
	Profiles      ProfileSource
}

// Defaults of validate.
const (
	DefaultMinExecutions = 20
	DefaultTrafficFactor = 2.0
)

// Targets of ValidateConfig.Target.
const (
	TargetBoth    = "both"
	TargetPrimary = "primary"
	TargetShadow  = "shadow"
)

func (c *ValidateConfig) defaults() {
	sharedDefaults(&c.GroupBy, &c.Alpha, &c.Threshold, &c.PrimaryCluster, &c.ShadowCluster, &c.ProfileSlack)
	if c.MinExecutions <= 0 {
		c.MinExecutions = DefaultMinExecutions
	}
	if c.TrafficFactor <= 1 {
		c.TrafficFactor = DefaultTrafficFactor
	}
	if c.Target == "" {
		c.Target = TargetBoth
	}
}

// Window sides.
const (
	before = 0
	after  = 1
)

// sideAcc accumulates one endpoint's executions on one target in one window.
type sideAcc struct {
	dur, srv  []float32 // latency of successful executions: duration_ms, and server_ms while every row has it
	noServer  int64     // successes without server_ms
	sumNS     int64     // of dur, in whole ns: exact, so the same in any order
	srvSumNS  int64     // of srv
	execs     int64
	fails     int64
	failures  map[failKey]*FailureGroup
	bytes     []int32 // bytes_recv of successes (clamped)
	errSized  int64
	results   map[uint64]resultSeen // SQL text -> its result (bounded)
	resultCap bool                  // results stopped growing at maxResultTexts
}

// resultSeen is a text's result in a window: the latest before the change, the earliest after.
type resultSeen struct {
	ts   int64
	hash uint64
}

// maxResultTexts bounds the SQL texts whose results one endpoint-target-window remembers.
const maxResultTexts = 20_000

// groupSides are the four accumulators of a group: [target primary/shadow][window].
type groupSides [2][2]*sideAcc

func (g *groupSides) at(t proxylog.Target, side int) *sideAcc {
	ti := 0
	if t == proxylog.Shadow {
		ti = 1
	}
	a := g[ti][side]
	if a == nil {
		a = &sideAcc{failures: map[failKey]*FailureGroup{}}
		g[ti][side] = a
	}
	return a
}

// recentRows is the size of each worker's duplicate cache (64 KiB: it stays in the core's cache;
// a larger table cost a cache miss per row).
const recentRows = 1 << 13

// validateWorker is one parser goroutine's state: no locks per row.
type validateWorker struct {
	cl     *classifier
	groups []groupSides
	sample samples
	seen   []uint64 // recent query id + target hashes, direct-mapped (duplicates)
	hours  [2][24]int64
	first  [2]int64
	last   [2]int64
	execs  [2]int64
	other  int64
	// otherTarget: rows of the target --target left out, or of no known target
	otherTarget int64
	notExec     int64
	dups        int64
	outside     int64
	wantT       proxylog.Target // 0: every target
	windows     [2]lakehouse.Window
	split       bool // one stream: the side comes from the row's time
	fixed       int  // two sets: the side of the set being read
}

// hourOfDay is the UTC hour of a Unix-nanosecond time.
func hourOfDay(ns int64) int {
	h := (ns / int64(time.Hour)) % 24
	if ns < 0 && ns%int64(time.Hour) != 0 {
		h-- // before 1970, rounded toward zero: step back into the hour
	}
	return int((h + 24) % 24)
}

func inWindow(w lakehouse.Window, ns int64) bool {
	return (w.Since.IsZero() || ns >= w.Since.UnixNano()) && (w.Until.IsZero() || ns < w.Until.UnixNano())
}

func (w *validateWorker) row(r *proxylog.Row) {
	switch string(r.Command) {
	case "COM_QUERY", StmtExecuteGroup:
	default:
		w.other++
		return
	}
	if r.Filtered || r.Dropped {
		w.notExec++ // a synthetic shadow row: the copy was never executed
		return
	}
	if w.wantT != 0 && r.Target != w.wantT || r.Target == proxylog.TargetUnknown {
		w.otherTarget++
		return
	}
	side := w.fixed
	switch {
	case w.split && inWindow(w.windows[before], r.TS):
		side = before
	case w.split && inWindow(w.windows[after], r.TS):
		side = after
	case w.split || !inWindow(w.windows[side], r.TS):
		w.outside++
		return
	}
	if len(r.QueryID) > 0 {
		// The producer duplicates a row when it retries a write: the copy follows within
		// seconds, so a small cache of recent rows catches it at the cost of one cache-resident
		// probe (diff's pairing needs an exact set; a count does not).
		if w.seen == nil {
			w.seen = make([]uint64, recentRows)
		}
		k := hashBytes(r.QueryID) ^ uint64(r.Target)*0x9e3779b97f4a7c15 | 1
		slot := &w.seen[k>>32&(recentRows-1)]
		if *slot == k {
			w.dups++
			return
		}
		*slot = k
	}
	g := w.cl.group(r)
	w.sample.offer(g, r)
	if int(g) >= len(w.groups) {
		w.groups = append(w.groups, make([]groupSides, int(g)+1-len(w.groups))...)
	}
	a := w.groups[g].at(r.Target, side)
	w.execs[side]++
	if w.first[side] == 0 || r.TS < w.first[side] {
		w.first[side] = r.TS
	}
	w.last[side] = max(w.last[side], r.TS)
	w.hours[side][hourOfDay(r.TS)]++
	a.execs++
	ok := r.Success || r.Has&proxylog.HasSuccess == 0 && r.Has&proxylog.HasError == 0
	if r.Success && r.Has&proxylog.HasErrorCode != 0 && r.ErrorCode != 0 {
		ok = false // srctl shadow logs SQL errors with their code
	}
	if !ok {
		a.fails++
		msg := r.Error
		if r.ErrorEscaped {
			msg = proxylog.Unescape(msg)
		}
		k := failKey{msg: string(msg), code: int32(r.ErrorCode)}
		if k.msg == "" {
			k.msg = "(no error text)"
		}
		f := a.failures[k]
		if f == nil {
			f = &FailureGroup{Error: k.msg, ErrorCode: int(k.code)}
			a.failures[k] = f
		}
		f.Count++
		f.offer(r.TS, bytesView(r.QueryID))
		if f.Example == bytesView(r.QueryID) {
			f.Example = strings.Clone(f.Example)
		}
		return
	}
	a.dur = append(a.dur, float32(r.DurationMS))
	a.sumNS += int64(math.Round(r.DurationMS * 1e6))
	switch {
	case r.Has&proxylog.HasServerMS == 0:
		a.noServer++
		a.srv = nil // server times are compared only when every row has one
	case a.noServer == 0:
		a.srv = append(a.srv, float32(r.ServerMS))
		a.srvSumNS += int64(math.Round(r.ServerMS * 1e6))
	}
	a.bytes = append(a.bytes, int32(min(r.BytesRecv, math.MaxInt32)))
	if r.BytesRecv <= errorPacketMax {
		a.errSized++
	}
	res := r.ResultSetHash
	if len(res) == 0 {
		res = r.ResultHash
	}
	if len(res) > 0 && len(r.QueryText) > 0 {
		a.offerResult(hashBytes(r.QueryText), resultSeen{r.TS, resultKey(res)}, side)
	}
}

// offerResult keeps the result of text closest to the change: the latest before it, the
// earliest after it.
func (a *sideAcc) offerResult(text uint64, s resultSeen, side int) {
	if a.results == nil {
		a.results = map[uint64]resultSeen{}
	}
	cur, ok := a.results[text]
	switch {
	case !ok:
		if len(a.results) >= maxResultTexts {
			a.resultCap = true
			return
		}
	case side == before && (s.ts < cur.ts || s.ts == cur.ts && s.hash <= cur.hash):
		return
	case side == after && (s.ts > cur.ts || s.ts == cur.ts && s.hash >= cur.hash):
		return
	}
	a.results[text] = s
}

// merge adds o (the same window, side) to a.
func (a *sideAcc) merge(o *sideAcc, side int) {
	a.dur = append(a.dur, o.dur...)
	a.noServer += o.noServer
	if a.noServer == 0 {
		a.srv = append(a.srv, o.srv...)
	} else {
		a.srv = nil
	}
	a.sumNS += o.sumNS
	a.srvSumNS += o.srvSumNS
	a.execs += o.execs
	a.fails += o.fails
	for k, f := range o.failures {
		if g := a.failures[k]; g != nil {
			g.Count += f.Count
			g.offer(f.exampleTS, f.Example)
		} else {
			a.failures[k] = f
		}
	}
	a.bytes = append(a.bytes, o.bytes...)
	a.errSized += o.errSized
	a.resultCap = a.resultCap || o.resultCap
	for k, s := range o.results {
		a.offerResult(k, s, side)
	}
}

// Validate reads the logs of both windows, compares each endpoint's latency distribution,
// errors, results and traffic before and after, and returns the finished report, ranked.
func Validate(ctx context.Context, in ValidateInputs, cfg ValidateConfig) (*ValidateReport, error) {
	cfg.defaults()
	start := time.Now()
	rep := &ValidateReport{Schema: ValidateSchema}
	table := newGroupTable()
	if cfg.Endpoint != "" {
		table.intern(cfg.Endpoint, "", "", "")
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = max(1, runtime.GOMAXPROCS(0))
	}
	var wantT proxylog.Target
	switch cfg.Target {
	case TargetPrimary:
		wantT = proxylog.Primary
	case TargetShadow:
		wantT = proxylog.Shadow
	}
	ws := make([]*validateWorker, workers)
	for i := range ws {
		ws[i] = &validateWorker{cl: newClassifier(cfg.Rules, cfg.GroupBy, table), wantT: wantT,
			windows: [2]lakehouse.Window{cfg.Before, cfg.After}}
	}
	read := func(src LogSource, split bool, side int) error {
		for _, w := range ws {
			w.split, w.fixed = split, side
		}
		st, err := src.ReadProxyLogs(ctx, proxylog.Options{Workers: workers, ChunkBytes: cfg.ChunkBytes, MaxLineBytes: cfg.MaxLineBytes, Progress: cfg.Progress},
			func(wi int, b *proxylog.Batch) error {
				w := ws[wi]
				for i := range b.Rows {
					w.row(&b.Rows[i])
				}
				return ctx.Err()
			})
		if err != nil {
			return fmt.Errorf("reading logs: %w", err)
		}
		s := &rep.Summary
		s.Files += st.Files
		s.Bytes += st.Bytes
		s.Rows += st.Rows
		s.BadLines += st.Quality.Total()
		rep.DataQuality.Merge(st.Quality)
		pruned, q := src.Resolution()
		rep.DataQuality.Merge(q)
		s.PrunedFiles += pruned
		return nil
	}
	var err error
	if in.Logs != nil {
		err = read(in.Logs, true, 0)
	} else {
		if err = read(in.Before, false, before); err == nil {
			err = read(in.After, false, after)
		}
	}
	if err != nil {
		return nil, err
	}
	per := make([]samples, len(ws))
	for i, w := range ws {
		per[i] = w.sample
	}
	table.setSamples(per)
	merged := mergeValidateWorkers(rep, ws)
	summariseValidate(rep, table, merged, cfg)
	if in.Profiles != nil {
		if err := attachValidateProfiles(ctx, rep, in.Profiles, cfg); err != nil {
			return nil, err
		}
	}
	rankValidate(rep.Endpoints)
	if cfg.Endpoint != "" {
		rep.Drill = validateDrill(rep, cfg.Endpoint)
	}
	rep.Summary.ElapsedSeconds = time.Since(start).Seconds()
	return rep, nil
}

// mergeValidateWorkers folds the workers' accumulators and counters into one set per group.
func mergeValidateWorkers(rep *ValidateReport, ws []*validateWorker) []groupSides {
	var out []groupSides
	var first, last [2]int64
	for _, w := range ws {
		s := &rep.Summary
		s.OtherRows += w.other
		s.OtherTargetRows += w.otherTarget
		s.NotExecuted += w.notExec
		s.Duplicates += w.dups
		s.OutsideWindows += w.outside
		for side := range 2 {
			s.Executions += w.execs[side]
			win := &rep.Before
			if side == after {
				win = &rep.After
			}
			win.Executions += w.execs[side]
			for h := range 24 {
				win.HoursOfDay[h] += w.hours[side][h]
			}
			if w.first[side] != 0 && (first[side] == 0 || w.first[side] < first[side]) {
				first[side] = w.first[side]
			}
			last[side] = max(last[side], w.last[side])
		}
		if len(w.groups) > len(out) {
			out = append(out, make([]groupSides, len(w.groups)-len(out))...)
		}
		for g := range w.groups {
			for t := range 2 {
				for side := range 2 {
					o := w.groups[g][t][side]
					switch {
					case o == nil:
					case out[g][t][side] == nil:
						out[g][t][side] = o
					default:
						out[g][t][side].merge(o, side)
					}
				}
			}
		}
	}
	rep.span = [2][2]int64{{first[0], last[0]}, {first[1], last[1]}}
	for side, win := range []*WindowSummary{&rep.Before, &rep.After} {
		if first[side] != 0 {
			win.FirstQuery = time.Unix(0, first[side]).UTC().Format(time.RFC3339)
			win.LastQuery = time.Unix(0, last[side]).UTC().Format(time.RFC3339)
		}
		win.Hours = float64(last[side]-first[side]) / float64(time.Hour)
	}
	return out
}
