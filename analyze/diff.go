package analyze

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/analyze/stats"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/proxylog"
)

// Config says how to diff. The zero value of a field takes its default (see Defaults).
type Config struct {
	Rules     *fingerprint.Rules // endpoint rules for untagged SQL (nil: none)
	GroupBy   string             // GroupByEndpoint (default), GroupByFingerprint, GroupByQueryHash
	Window    lakehouse.Window   // pairs whose primary row is outside are counted, not analysed
	Alpha     float64            // false discovery rate / error level; default 0.05
	MinPairs  int                // pairs an endpoint needs for any verdict; default 20
	Threshold float64            // smallest relative change worth reporting; default 0.10
	// MinDeltaMS is the smallest absolute change worth reporting, in ms (0: none): between two
	// servers, sub-millisecond queries differ by more than the threshold for reasons no user sees.
	MinDeltaMS float64
	// MinDeltaAuto, with MinDeltaMS 0, takes the floor from the data: twice the proxy's timing
	// asymmetry when it can be measured (see Timing). The CLI's default.
	MinDeltaAuto bool
	// DivergenceShare is the share of compared pairs whose response size must collapse or differ
	// for an endpoint to be "suspected"; default 0.5 ("most pairs").
	DivergenceShare float64
	Endpoint        string // drill into this group (--endpoint)
	Workers         int
	ChunkBytes      int
	MaxLineBytes    int
	Progress        *proxylog.Progress
	// Sort orders endpoints within each verdict class (SortKeys; default SortImpact).
	Sort string
	// PrimaryCluster and ShadowCluster are the cluster names the profile records of each side
	// carry (defaults "primary" and "shadow").
	PrimaryCluster, ShadowCluster string
	// ProfileSlack widens the logs' time range for profile records: the log row is written at
	// completion and the FE records the start, and clocks differ. Default 10 minutes.
	ProfileSlack time.Duration
}

// LogSource is where Diff reads proxy-log rows (a source.Set: files, buckets, Iceberg tables).
// ReadProxyLogs has proxylog.Read's contract: process runs concurrently, one goroutine per
// worker index. Resolution is what finding the inputs left out or noticed (files pruned by the
// time window, empty partitions), for the report's data quality.
type LogSource interface {
	ReadProxyLogs(ctx context.Context, opts proxylog.Options, process func(worker int, b *proxylog.Batch) error) (proxylog.Stats, error)
	Resolution() (pruned int, quality proxylog.Quality)
}

// ProfileSource is where Diff reads the profile records of both clusters (a source.Set).
// A record that cannot be decoded, or an object that cannot be read (*lakehouse.ObjectError),
// reaches fn with its error; fn's own error stops the read.
type ProfileSource interface {
	ReadProfiles(ctx context.Context, fn func(rec *lakehouse.ProfileRecord, err error) error) error
}

// Diff reads the logs, compares primary and shadow, joins the profile records when profiles is
// not nil, and returns the finished report: data quality merged, profiles attached, endpoints
// ranked by cfg.Sort. Bad input is counted in the report; only cancellation and I/O set-up
// errors fail it. The same input gives the same report whatever cfg.Workers is.
func Diff(ctx context.Context, logs LogSource, profiles ProfileSource, cfg Config) (*Report, error) {
	cfg.defaults()
	rep, err := compare(ctx, logs, cfg)
	if err != nil {
		return nil, err
	}
	pruned, q := logs.Resolution()
	rep.DataQuality.Merge(q)
	rep.Summary.PrunedFiles = pruned
	if profiles != nil {
		if err := attachProfiles(ctx, rep, profiles, cfg); err != nil {
			return nil, err
		}
	}
	Rank(rep.Endpoints, cfg.Sort)
	return rep, nil
}

// Defaults.
const (
	DefaultAlpha           = 0.05
	DefaultMinPairs        = 20
	DefaultThreshold       = 0.10
	DefaultDivergenceShare = 0.5
	// errorPacketMax is the largest response taken for a MySQL ERR packet (header, code,
	// SQL state and a message); result sets are larger.
	errorPacketMax = 128
	// largeResultBytes marks results big enough that streaming them to the client shows in the
	// primary's duration (FORMATS.md quirk 2).
	largeResultBytes = 1 << 20
	worstPairs       = 10
)

func (c *Config) defaults() {
	sharedDefaults(&c.GroupBy, &c.Alpha, &c.Threshold, &c.PrimaryCluster, &c.ShadowCluster, &c.ProfileSlack)
	if c.MinPairs <= 0 {
		c.MinPairs = DefaultMinPairs
	}
	if c.DivergenceShare <= 0 {
		c.DivergenceShare = DefaultDivergenceShare
	}
	if c.Sort == "" {
		c.Sort = SortImpact
	}
}

// sharedDefaults fills the settings diff and validate have in common.
func sharedDefaults(groupBy *string, alpha, threshold *float64, primary, shadow *string, slack *time.Duration) {
	if *groupBy == "" {
		*groupBy = GroupByEndpoint
	}
	if *alpha <= 0 {
		*alpha = DefaultAlpha
	}
	if *threshold <= 0 {
		*threshold = DefaultThreshold
	}
	if *primary == "" {
		*primary = "primary"
	}
	if *shadow == "" {
		*shadow = "shadow"
	}
	if *slack <= 0 {
		*slack = 10 * time.Minute
	}
}

// MinPairsFor is the rule for a quantile's verdict: at least MinPairs pairs and at least five
// expected observations beyond the quantile (n(1-q) >= 5): P50 20, P90 50, P95 100, P99 500
// with the default MinPairs.
func MinPairsFor(q float64, minPairs int) int {
	return max(minPairs, int(math.Ceil(5/(1-q)-1e-9)))
}

// groupAcc accumulates one group's pairs.
type groupAcc struct {
	// lat (primary, shadow latency pairs, ms) and sizes (shadow - primary bytes_recv of pairs
	// that both succeeded, clamped) as they are added; join turns them, with those of the
	// accumulators merged into this one, into pd, sd and bdiff.
	lat      column[[2]float32]
	sizes    column[int32]
	pd, sd   []float32
	bdiff    []int32
	impactNS int64 // sum of shadow - primary over latency pairs, in whole ns: exact, so the same in any order
	large    int64 // pairs with a large primary result
	// serverTimed counts the latency pairs timed by srctl shadow's server_ms.
	serverTimed int64
	collapsed   int64
	// suspectedErrors: collapsed pairs kept out of latency (no result hashes to say otherwise)
	suspectedErrors int64
	collapseEx      []SizeExample
	diffEx          []SizeExample // candidates; those matching the offset are dropped at the end
	resCmp          int64
	resDiff         int64
	resOrder        int64 // same rows (result_set_hash), another order
	resEx           []ResultExample
	filtered        int64
	dropped         int64
	shadowOnly      int64
	// shadowFails: hash and time of logged shadow-only failures (bounded), so that a shadow
	// profile FAILED for the same execution is not counted a second time.
	shadowFails []hashTime
	primOnly    int64
	both        int64
	failures    map[failKey]*FailureGroup
	detail      []pairRef // drill-down group only
	// parts are the accumulators merged into this one: join appends their columns to its own.
	parts []*groupAcc
}

type failKey struct {
	kind, msg string
	code      int32
}

type hashTime struct {
	hash [16]byte
	ns   int64
}

// maxShadowFailsKept bounds groupAcc.shadowFails; failures beyond it may be counted twice
// when their profiles say FAILED too.
const maxShadowFailsKept = 100_000

type pairRef struct {
	qid, sql string
	ts       int64
	p, s     float32
	hash     [16]byte
	hasHash  bool
}

// compare reads the logs and compares primary and shadow; cfg has its defaults (Diff).
//
// Parser goroutines decode, classify and reduce rows to halves and pair the halves of their own
// batch; halves left over go to one global pairer. Each goroutine accumulates into its own sink,
// merged at the end, so nothing is locked per row.
func compare(ctx context.Context, logs LogSource, cfg Config) (*Report, error) {
	start := time.Now()
	table := newGroupTable()
	rep := &Report{Schema: ReportSchema}
	workers := cfg.Workers
	if workers <= 0 {
		workers = max(1, runtime.GOMAXPROCS(0))
	}
	drillID, drillSet := uint32(0), false
	if cfg.Endpoint != "" {
		// Interning the drilled name first gives it a known id; classification finds it later.
		drillID, drillSet = table.intern(cfg.Endpoint, "", "", ""), true
	}
	type worker struct {
		cl     *classifier
		sink   *sink
		local  localPairer
		halves []half
		counts rowCounts
		sample samples
	}
	ws := make([]*worker, workers)
	for i := range ws {
		ws[i] = &worker{cl: newClassifier(cfg.Rules, cfg.GroupBy, table), sink: newSink(cfg.Window, drillID, drillSet)}
	}
	type leftovers struct {
		halves []half
		done   []uint64
	}
	global := newGlobalPairer(newSink(cfg.Window, drillID, drillSet))
	toGlobal := make(chan leftovers, 2*workers)
	// recycled hands the global pairer's emptied leftovers back to the parsers: a batch's
	// leftovers were a quarter of the bytes diff allocated (halves are ~200 bytes), garbage at once.
	recycled := make(chan leftovers, 2*workers+2)
	globalDone := make(chan struct{})
	go func() {
		defer close(globalDone)
		for l := range toGlobal {
			global.completed(l.done)
			for i := range l.halves {
				global.add(&l.halves[i]) // copied where it is kept
			}
			clear(l.halves) // no strings kept alive by a buffer
			select {
			case recycled <- leftovers{l.halves[:0], l.done[:0]}:
			default:
			}
		}
	}()
	st, err := logs.ReadProxyLogs(ctx, proxylog.Options{Workers: workers, ChunkBytes: cfg.ChunkBytes, MaxLineBytes: cfg.MaxLineBytes, Progress: cfg.Progress},
		func(wi int, b *proxylog.Batch) error {
			w := ws[wi]
			hs := w.halves[:0]
			var prev *proxylog.Row // the last query row, for groupAfter
			var prevGroup uint32
			for i := range b.Rows {
				r := &b.Rows[i]
				switch string(r.Command) {
				case "COM_QUERY":
					w.counts.query++
				case StmtExecuteGroup:
					if len(r.QueryText) == 0 {
						w.counts.execute++ // no text: one group of their own
					} else {
						w.counts.query++ // srctl shadow logs the statement's text
					}
				default:
					w.counts.other++
					continue
				}
				g := w.cl.groupAfter(r, prev, prevGroup)
				prev, prevGroup = r, g
				w.sample.offer(g, r)
				hs = slices.Grow(hs, 1)[:len(hs)+1]
				reduce(&hs[len(hs)-1], r, i, g, drillSet && g == drillID)
				if r.Target == proxylog.Shadow {
					w.sink.sawShadow(hs[len(hs)-1].client)
				}
			}
			w.halves = hs
			var l leftovers
			select {
			case l = <-recycled:
			default:
			}
			w.sink.rows = b.Rows
			l.halves, l.done = w.local.pairBatch(hs, w.sink, l.halves, l.done)
			w.sink.rows = nil
			select {
			case toGlobal <- l:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	close(toGlobal)
	<-globalDone
	global.done.release() // every pair is made: the duplicate set (mapped memory) goes now
	if err != nil {
		return nil, fmt.Errorf("reading logs: %w", err)
	}
	sinks := []*sink{global.sink}
	shadowClients := global.sink.shadowClients
	for _, w := range ws {
		sinks = append(sinks, w.sink)
		for c := range w.sink.shadowClients {
			shadowClients[c] = struct{}{}
		}
	}
	global.finish(shadowClients)
	per := make([]samples, len(ws))
	for i, w := range ws {
		per[i] = w.sample
	}
	table.setSamples(per)
	accs := mergeSinks(rep, sinks)
	sum := &rep.Summary
	sum.Files, sum.Bytes, sum.Rows = st.Files, st.Bytes, st.Rows
	sum.BadLines = st.Quality.Total()
	for _, w := range ws {
		sum.QueryRows += w.counts.query
		sum.ExecuteRows += w.counts.execute
		sum.OtherRows += w.counts.other
	}
	rep.DataQuality = st.Quality

	for _, a := range accs {
		for _, f := range a.shadowFails {
			if rep.loggedShadowFails == nil {
				rep.loggedShadowFails = map[[16]byte][]int64{}
			}
			rep.loggedShadowFails[f.hash] = append(rep.loggedShadowFails[f.hash], f.ns)
		}
	}
	tested := summarise(rep, table, accs, cfg)
	rep.Settings = Settings{GroupBy: cfg.GroupBy, Alpha: cfg.Alpha, MinPairs: cfg.MinPairs, ThresholdPct: cfg.Threshold * 100,
		TailLevel: 1 - tailGamma(cfg.Alpha, tested), EndpointsTested: tested, Timing: rep.Settings.Timing}
	if !cfg.Window.Since.IsZero() {
		rep.Settings.Since = cfg.Window.Since.UTC().Format(time.RFC3339)
	}
	if !cfg.Window.Until.IsZero() {
		rep.Settings.Until = cfg.Window.Until.UTC().Format(time.RFC3339)
	}
	if drillSet {
		rep.Drill = drill(cfg.Endpoint, accs[drillID], rep)
	}
	if rep.firstNS != 0 {
		sum.FirstQuery = time.Unix(0, rep.firstNS).UTC().Format(time.RFC3339)
		sum.LastQuery = time.Unix(0, rep.lastNS).UTC().Format(time.RFC3339)
	}
	rep.Summary.ElapsedSeconds = time.Since(start).Seconds()
	return rep, nil
}

// mergeSinks adds every sink's counts to rep.Summary and concatenates their accumulators.
func mergeSinks(rep *Report, sinks []*sink) map[uint32]*groupAcc {
	sum := &rep.Summary
	sum.FilteredBy = map[string]int64{}
	accs := map[uint32]*groupAcc{}
	for _, sk := range sinks {
		c := &sk.sum
		sum.Pairs += c.Pairs
		sum.LatencyPairs += c.LatencyPairs
		sum.FailedPairs += c.FailedPairs
		sum.SuspectedErrorPairs += c.SuspectedErrorPairs
		sum.Filtered += c.Filtered
		for k, n := range c.FilteredBy {
			sum.FilteredBy[k] += n
		}
		sum.Dropped += c.Dropped
		for k, n := range c.DroppedBy {
			if sum.DroppedBy == nil {
				sum.DroppedBy = map[string]int64{}
			}
			sum.DroppedBy[k] += n
		}
		sum.ResultOrderOnly += c.ResultOrderOnly
		sum.Duplicates += c.Duplicates
		sum.ShadowMissing += c.ShadowMissing
		sum.PrimaryOnlyConnectionRows += c.PrimaryOnlyConnectionRows
		sum.PrimaryOnlyConnections += c.PrimaryOnlyConnections
		sum.UnpairedShadow += c.UnpairedShadow
		sum.OutsideWindow += c.OutsideWindow
		sum.ShadowOnlyFailures += c.ShadowOnlyFailures
		sum.PrimaryOnlyFailures += c.PrimaryOnlyFailures
		sum.BothFailures += c.BothFailures
		sum.ResultMismatches += c.ResultMismatches
		if sk.firstNS != 0 && (rep.firstNS == 0 || sk.firstNS < rep.firstNS) {
			rep.firstNS = sk.firstNS
		}
		rep.lastNS = max(rep.lastNS, sk.lastNS)
		for g, a := range sk.accs {
			if a == nil {
				continue
			}
			if dst := accs[uint32(g)]; dst != nil {
				dst.merge(a)
			} else {
				accs[uint32(g)] = a
			}
		}
	}
	return accs
}

// merge adds o's pairs and counts to a. o's latency and size arrays are only noted: join
// concatenates them later, once per endpoint and on every core, into arrays of the final size
// (appending here ran on one core and grew them step by step, into memory new to the process).
func (a *groupAcc) merge(o *groupAcc) {
	a.parts = append(a.parts, o)
	a.impactNS += o.impactNS
	a.serverTimed += o.serverTimed
	a.large += o.large
	a.collapsed += o.collapsed
	a.suspectedErrors += o.suspectedErrors
	for _, ex := range o.collapseEx {
		a.collapseEx = keepEarliest(a.collapseEx, ex, maxCollapseExamples)
	}
	for _, ex := range o.diffEx {
		a.diffEx = keepEarliest(a.diffEx, ex, maxDiffCandidates)
	}
	a.resCmp += o.resCmp
	a.resDiff += o.resDiff
	a.resOrder += o.resOrder
	for _, ex := range o.resEx {
		a.offerResultExample(ex)
	}
	a.filtered += o.filtered
	a.dropped += o.dropped
	a.shadowOnly += o.shadowOnly
	a.shadowFails = append(a.shadowFails, o.shadowFails[:min(len(o.shadowFails), maxShadowFailsKept-len(a.shadowFails))]...)
	a.primOnly += o.primOnly
	a.both += o.both
	for k, f := range o.failures {
		if g := a.failures[k]; g != nil {
			g.Count += f.Count
			g.offer(f.exampleTS, f.Example)
		} else {
			a.failures[k] = f
		}
	}
	a.detail = append(a.detail, o.detail...)
}

// join makes pd, sd and bdiff from the columns of a and of the accumulators merged into it:
// one array of the final size each.
func (a *groupAcc) join() {
	accs := append([]*groupAcc{a}, a.parts...)
	n, m := 0, 0
	for _, g := range accs {
		n += g.lat.len()
		m += g.sizes.len()
	}
	a.pd, a.sd, a.bdiff = make([]float32, 0, n), make([]float32, 0, n), make([]int32, 0, m)
	for _, g := range accs {
		g.lat.each(func(b [][2]float32) {
			for _, v := range b {
				a.pd = append(a.pd, v[0])
				a.sd = append(a.sd, v[1])
			}
		})
		g.sizes.each(func(b []int32) { a.bdiff = append(a.bdiff, b...) })
		g.lat, g.sizes = column[[2]float32]{}, column[int32]{}
	}
	a.parts = nil
}

// pairsAdded counts the latency pairs of a and of the accumulators merged into it, before join
// as after.
func (a *groupAcc) pairsAdded() int {
	n := len(a.pd) + a.lat.len()
	for _, p := range a.parts {
		n += p.lat.len()
	}
	return n
}

type rowCounts struct{ query, execute, other int64 }

func (a *groupAcc) addPair(p, s *half, sk *sink, keep bool) {
	sum := &sk.sum
	if s.dropped() || p.dropped() {
		a.dropped++
		sum.Dropped++
		if sum.DroppedBy == nil {
			sum.DroppedBy = map[string]int64{}
		}
		reason := s.filter
		if !s.dropped() {
			reason = p.filter
		}
		sum.DroppedBy[reason]++
		return
	}
	if s.filtered() || p.filtered() {
		a.filtered++
		sum.Filtered++
		reason := s.filter
		if reason == "" {
			reason = p.filter
		}
		sum.FilteredBy[reason]++
		return
	}
	switch {
	case p.ok() && !s.ok():
		a.fail(FailShadowOnly, s.err, s)
		a.shadowOnly++
		if s.flags&flagHasHash != 0 && len(a.shadowFails) < maxShadowFailsKept {
			a.shadowFails = append(a.shadowFails, hashTime{s.hash, s.ts})
		}
		sum.ShadowOnlyFailures++
	case !p.ok() && s.ok():
		a.fail(FailPrimaryOnly, p.err, p)
		a.primOnly++
		sum.PrimaryOnlyFailures++
	case !p.ok() && !s.ok():
		a.fail(FailBoth, s.err, s)
		a.both++
		sum.BothFailures++
	}
	if !p.ok() || !s.ok() {
		sum.FailedPairs++
		return
	}
	if (p.result == 0 || s.result == 0) && s.bytes <= errorPacketMax && p.bytes > 2*errorPacketMax {
		// An error-sized shadow answer where the primary returned a result, in logs without result
		// hashes: most likely a SQL error the proxy logged as a success (FORMATS.md quirk 1). It
		// is a suspect for the size-divergence check, never a latency sample: a query that fails
		// fast is not an improvement.
		sum.SuspectedErrorPairs++
		a.suspectedErrors++
		a.collapsed++
		a.collapseEx = offerSizeExample(a.collapseEx, p, s, maxCollapseExamples)
		return
	}
	sum.LatencyPairs++
	pdur, sdur := latencies(p, s)
	if p.flags&s.flags&flagHasServer != 0 {
		a.serverTimed++
	}
	l := a.lat.push()
	l[0], l[1] = pdur, sdur
	a.impactNS += int64(math.Round((float64(sdur) - float64(pdur)) * 1e6))
	if p.bytes >= largeResultBytes && p.flags&s.flags&flagHasServer == 0 {
		a.large++ // the proxy's primary time includes streaming it; server times do not
	}
	if p.result != 0 && s.result != 0 {
		// Both sides logged result hashes (srctl shadow): the exact signal; the response-size
		// heuristic below is for logs without them.
		a.resCmp++
		switch {
		case p.result == s.result:
		case p.setRes != 0 && p.setRes == s.setRes:
			a.resOrder++
			sum.ResultOrderOnly++
		default:
			a.resDiff++
			sum.ResultMismatches++
			a.offerResultExample(ResultExample{QueryID: p.queryID(), SQL: sk.textOf(p), PrimaryHash: fmtResultKey(p.result), ShadowHash: fmtResultKey(s.result),
				PrimaryRows: p.rows, ShadowRows: s.rows, ts: p.ts})
		}
		if keep {
			a.detail = append(a.detail, pairRef{qid: p.queryID(), sql: p.text, ts: p.ts, p: pdur, s: sdur, hash: p.hash, hasHash: p.flags&flagHasHash != 0})
		}
		return
	}
	diff := max(min(s.bytes-p.bytes, math.MaxInt32), math.MinInt32)
	a.sizes.add(int32(diff))
	if diff != 0 {
		a.diffEx = offerSizeExample(a.diffEx, p, s, maxDiffCandidates)
	}
	if keep {
		a.detail = append(a.detail, pairRef{qid: p.queryID(), sql: p.text, ts: p.ts, p: pdur, s: sdur, hash: p.hash, hasHash: p.flags&flagHasHash != 0})
	}
}

// latencies are the two times a pair is compared on: srctl shadow's server-side times when both
// rows carry them (measured the same way on both targets), else the proxy's durations (which the
// existing proxy takes differently on each side: FORMATS.md quirk 2).
func latencies(p, s *half) (float32, float32) {
	if p.flags&s.flags&flagHasServer != 0 {
		return p.srv, s.srv
	}
	return p.dur, s.dur
}

// Size examples kept per group: the earliest pairs (then smallest query id), so that the report
// does not depend on the order rows were read in.
const (
	maxCollapseExamples = 3
	maxDiffCandidates   = 64 // those matching the offset are dropped at the end
)

// earlier reports whether a pair at ts with query id qid comes before example ex.
func earlier(ts int64, qid string, ex SizeExample) bool {
	if ts != ex.ts {
		return ts < ex.ts
	}
	return qid < ex.QueryID
}

// offerSizeExample keeps the pair (p, s) among the earliest n examples of exs; its query id is
// copied only when it is kept.
func offerSizeExample(exs []SizeExample, p, s *half, n int) []SizeExample {
	ex := SizeExample{PrimaryBytes: p.bytes, ShadowBytes: s.bytes, ts: p.ts}
	if len(exs) == n && !earlier(ex.ts, p.qidView(), exs[n-1]) {
		return exs
	}
	ex.QueryID = p.queryID()
	return keepEarliest(exs, ex, n)
}

// keepEarliest inserts ex into exs (kept sorted by time, then query id) and keeps the first n.
func keepEarliest(exs []SizeExample, ex SizeExample, n int) []SizeExample {
	i, _ := slices.BinarySearchFunc(exs, ex, func(a, b SizeExample) int {
		return cmp.Or(cmp.Compare(a.ts, b.ts), strings.Compare(a.QueryID, b.QueryID))
	})
	if i >= n {
		return exs
	}
	exs = slices.Insert(exs, i, ex)
	if len(exs) > n {
		exs = exs[:n]
	}
	return exs
}

// maxResultExamples is how many result differences an endpoint shows.
const maxResultExamples = 3

// offerResultExample keeps the earliest result differences (ties: smallest query id), so the
// report does not depend on the order rows were read in.
func (a *groupAcc) offerResultExample(ex ResultExample) {
	a.resEx = append(a.resEx, ex)
	slices.SortFunc(a.resEx, func(x, y ResultExample) int {
		if x.ts != y.ts {
			return cmp.Compare(x.ts, y.ts)
		}
		return strings.Compare(x.QueryID, y.QueryID)
	})
	if len(a.resEx) > maxResultExamples {
		a.resEx = a.resEx[:maxResultExamples]
	}
}

func fmtResultKey(v uint64) string { return fmt.Sprintf("%016x", v) }

func (a *groupAcc) fail(kind, msg string, h *half) {
	k := failKey{kind, msg, h.code}
	f := a.failures[k]
	if f == nil {
		f = &FailureGroup{Kind: kind, Error: msg, ErrorCode: int(h.code)}
		a.failures[k] = f
	}
	f.offer(h.ts, h.queryID())
	f.Count++
}

// tailGamma is the error level of each tail-quantile interval: alpha split over the endpoints
// tested (Bonferroni), since the order-statistic intervals give no p-values to feed
// Benjamini-Hochberg.
func tailGamma(alpha float64, tested int) float64 { return alpha / float64(max(tested, 1)) }

var quantileLevels = [4]float64{0.5, 0.9, 0.95, 0.99}

// summarise turns the accumulators into endpoint reports, ranked. It returns how many
// endpoints had enough pairs to be tested.
func summarise(rep *Report, table *groupTable, accs map[uint32]*groupAcc, cfg Config) int {
	ids := make([]uint32, 0, len(accs))
	for id := range accs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// First, per endpoint on every core: the arrays joined, and the medians the cross-endpoint
	// estimates below take (O(n) selections, not sorts).
	meds := make([]endpointMedians, len(ids))
	eachEndpoint(ids, accs, func(i int, a *groupAcc, sc *scratch) {
		a.join()
		meds[i] = medians(a, cfg.MinPairs, sc)
	})
	rep.Settings.Timing = correctTiming(table, accs, ids, meds, &cfg)
	offsets := sizeOffsets(table, ids, meds)
	// The sign test runs once per endpoint compared: Bonferroni keeps the chance that any endpoint
	// whose sizes merely vary is suspected at alpha.
	// The endpoints tested are those with MinPairs latency pairs (their report's Pairs).
	compared := 0
	var tested []int
	for i, id := range ids {
		if len(accs[id].bdiff) > 0 {
			compared++
		}
		if len(accs[id].pd) >= cfg.MinPairs {
			tested = append(tested, i)
		}
	}
	signAlpha := cfg.Alpha / float64(max(1, compared))
	gamma := tailGamma(cfg.Alpha, len(tested))
	// Then the expensive part, again on every core: sorting, the paired test, and the ranks of
	// the quantiles' confidence intervals (the same for both sides of an endpoint: one n).
	eps := make([]EndpointReport, len(ids))
	sorted := make([][2][]float32, len(ids))
	ranks := make([][4]stats.Ranks, len(ids))
	eachEndpoint(ids, accs, func(i int, a *groupAcc, sc *scratch) {
		info := table.info(ids[i])
		eps[i], sorted[i] = baseReport(info, a, cfg, sc)
		eps[i].SizeDivergence = sizeDivergence(a, offsets.of(info.Name), meds[i].bytes, cfg.DivergenceShare, signAlpha)
		if n := len(a.pd); n >= cfg.MinPairs {
			for k, q := range quantileLevels {
				if n >= MinPairsFor(q, cfg.MinPairs) {
					// Each side's interval at gamma/2 makes the box of ratios cover the true
					// ratio with probability >= 1-gamma, whatever the dependence between the sides.
					ranks[i][k] = stats.OrderStatRanks(n, q, gamma/2)
				}
			}
		}
	})

	ps := make([]float64, len(tested))
	for k, i := range tested {
		ps[k] = eps[i].PValue
	}
	adj := stats.BenjaminiHochberg(ps)
	for k, i := range tested {
		eps[i].PAdjusted = adj[k]
		judge(&eps[i], sorted[i], ranks[i], cfg)
	}
	for i := range eps {
		e := &eps[i]
		if e.Pairs < int64(cfg.MinPairs) {
			e.Verdict = VerdictInsufficient
			e.PAdjusted = 1
			e.QuantileVerdicts = QuantileVerdicts{VerdictInsufficient, VerdictInsufficient, VerdictInsufficient, VerdictInsufficient}
		}
		switch e.Verdict {
		case VerdictRegression:
			rep.Summary.Regressions++
		case VerdictImprovement:
			rep.Summary.Improvements++
		}
		if e.SizeDivergence.Suspected {
			rep.Summary.SizeDivergentEndpoints++
		}
		for _, f := range accs[ids[i]].failures {
			f.Endpoint = e.Endpoint
			rep.Failures = append(rep.Failures, *f)
		}
	}
	sortFailures(rep.Failures)
	rep.Endpoints = eps
	Rank(rep.Endpoints, SortImpact)
	rep.Summary.Endpoints = len(eps)
	return len(tested)
}

// scratch is one worker's reusable memory in eachEndpoint: memory new to the process costs a
// page fault per 4 KiB on a virtual machine, memory reused does not.
type scratch struct {
	f64  []float64
	f32  []float32
	keys []uint32
}

func (sc *scratch) float64s(n int) []float64 {
	sc.f64 = slices.Grow(sc.f64[:0], n)
	return sc.f64[:n]
}

func (sc *scratch) float32s(n int) []float32 {
	sc.f32 = slices.Grow(sc.f32[:0], n)
	return sc.f32[:n]
}

// eachEndpoint calls f for every endpoint (index i of ids) on GOMAXPROCS goroutines, each with
// its own scratch. The endpoints with the most pairs go first, so that no core is left with a
// big one at the end.
func eachEndpoint(ids []uint32, accs map[uint32]*groupAcc, f func(i int, a *groupAcc, sc *scratch)) {
	order := make([]int, len(ids))
	size := make([]int, len(ids))
	for i, id := range ids {
		order[i] = i
		size[i] = accs[id].pairsAdded()
	}
	slices.SortStableFunc(order, func(x, y int) int { return size[y] - size[x] })
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(max(1, runtime.GOMAXPROCS(0)), len(ids)) {
		wg.Go(func() {
			var sc scratch
			for {
				k := int(next.Add(1)) - 1
				if k >= len(order) {
					return
				}
				i := order[k]
				f(i, accs[ids[i]], &sc)
			}
		})
	}
	wg.Wait()
}

func sortFailures(fs []FailureGroup) {
	sort.Slice(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Endpoint != b.Endpoint {
			return a.Endpoint < b.Endpoint
		}
		return a.Kind+a.Error < b.Kind+b.Error
	})
}

// baseReport computes what needs only the group's own data: quantiles, the paired test, sizes.
// It sorts a's latencies (a.pd, a.sd) in place and returns them: a is not read in pair order after.
func baseReport(info groupInfo, a *groupAcc, cfg Config, sc *scratch) (EndpointReport, [2][]float32) {
	e := EndpointReport{Endpoint: info.Name, Source: info.Source, SampleSQL: info.SampleSQL, Pairs: int64(len(a.pd)),
		ImpactMS: float64(a.impactNS) / 1e6, ShadowOnlyFailures: a.shadowOnly, PrimaryOnlyFailures: a.primOnly, BothFailures: a.both,
		FilteredPairs: a.filtered, ResultCompared: a.resCmp, ResultMismatches: a.resDiff, ResultOrderOnly: a.resOrder,
		ResultExamples: a.resEx, DroppedPairs: a.dropped, SuspectedErrorPairs: a.suspectedErrors, Why: []string{}, PValue: 1}
	n := len(a.pd)
	if n == 0 {
		return e, [2][]float32{}
	}
	// Paired analysis on log ratios, while pd and sd are still in pair order; a floor keeps 0 ms
	// rows finite.
	d := sc.float32s(n) // sorted and read below, not kept
	for i := range d {
		d[i] = float32(math.Log(math.Max(float64(a.sd[i]), 0.001) / math.Max(float64(a.pd[i]), 0.001)))
	}
	// Then each side's latencies are sorted where they are: nothing reads them in pair order
	// after this (copies cost 8 bytes a pair of memory new to the process).
	ps, ss := a.pd, a.sd
	sc.keys = stats.SortFloat32With(ps, sc.keys)
	sc.keys = stats.SortFloat32With(ss, sc.keys)
	q := func(s []float32) Quantiles {
		return Quantiles{round3(stats.Quantile(s, .5)), round3(stats.Quantile(s, .9)), round3(stats.Quantile(s, .95)), round3(stats.Quantile(s, .99))}
	}
	e.Primary, e.Shadow = q(ps), q(ss)
	e.curve = [2][]float64{curveOf(ps), curveOf(ss)}
	e.DeltaPct = Quantiles{pct(e.Primary.P50, e.Shadow.P50), pct(e.Primary.P90, e.Shadow.P90), pct(e.Primary.P95, e.Shadow.P95), pct(e.Primary.P99, e.Shadow.P99)}

	sc.keys = stats.SortFloat32With(d, sc.keys)
	w := stats.SignedRankSorted(d)
	e.PValue = w.P
	e.CentreDeltaPct = round1((math.Exp(stats.Quantile(d, .5)) - 1) * 100)
	if ci := stats.QuantileCI(d, .5, cfg.Alpha); ci.OK {
		e.CentreCIPct = &[2]float64{round1((math.Exp(ci.Lo) - 1) * 100), round1((math.Exp(ci.Hi) - 1) * 100)}
	}
	if a.large*10 >= int64(n) && e.DeltaPct.P50 < 0 {
		e.Notes = append(e.Notes, fmt.Sprintf("%d of %d pairs return over 1 MiB: the primary's time includes streaming to the client, the shadow's does not, so the shadow looks faster than it is", a.large, n))
	}
	return e, [2][]float32{ps, ss}
}

// judge sets the verdicts of a tested endpoint.
// ranks are the order statistics of each quantile's interval (zero where n is too small).
func judge(e *EndpointReport, sorted [2][]float32, ranks [4]stats.Ranks, cfg Config) {
	ps, ss := sorted[0], sorted[1]
	n := len(ps)
	thr := cfg.Threshold * 100
	verdicts := [4]string{}
	var intervals [4]*[2]float64
	deltas := [4]float64{e.DeltaPct.P50, e.DeltaPct.P90, e.DeltaPct.P95, e.DeltaPct.P99}
	absMS := [4]float64{e.Shadow.P50 - e.Primary.P50, e.Shadow.P90 - e.Primary.P90, e.Shadow.P95 - e.Primary.P95, e.Shadow.P99 - e.Primary.P99}
	big := func(i int) bool { return math.Abs(absMS[i]) >= cfg.MinDeltaMS }
	regress, improve := false, false
	for i, q := range quantileLevels {
		if n < MinPairsFor(q, cfg.MinPairs) {
			verdicts[i] = VerdictInsufficient
			continue
		}
		cp, cs := stats.QuantileCIAt(ps, ranks[i]), stats.QuantileCIAt(ss, ranks[i])
		if !cp.OK || !cs.OK || cp.Lo <= 0 {
			verdicts[i] = VerdictInsufficient
			continue
		}
		lo, hi := (cs.Lo/cp.Hi-1)*100, (cs.Hi/cp.Lo-1)*100
		intervals[i] = &[2]float64{round1(lo), round1(hi)}
		switch {
		case lo > 0 && deltas[i] >= thr && big(i):
			verdicts[i] = VerdictRegression
			regress = true
		case hi < 0 && deltas[i] <= -thr && big(i):
			verdicts[i] = VerdictImprovement
			improve = true
		default:
			verdicts[i] = VerdictSame
		}
	}
	// The centre: Wilcoxon on the paired log ratios, corrected across endpoints.
	if e.PAdjusted < cfg.Alpha && big(0) {
		switch {
		case e.CentreDeltaPct >= thr:
			regress = true
		case e.CentreDeltaPct <= -thr:
			improve = true
		}
	}
	e.QuantileVerdicts = QuantileVerdicts{verdicts[0], verdicts[1], verdicts[2], verdicts[3]}
	e.CIPct = QuantileIntervals{intervals[0], intervals[1], intervals[2], intervals[3]}
	switch {
	case regress:
		e.Verdict = VerdictRegression
	case improve:
		e.Verdict = VerdictImprovement
	default:
		e.Verdict = VerdictSame
	}
}

// sizeOffset is the proxy's constant shadow-primary response size difference (a protocol
// detail: the two connections' capabilities differ), estimated across endpoints: the median of
// the endpoints' median differences. Text queries and prepared-statement executes (the binary
// protocol) are estimated apart. known is false when no endpoint had enough pairs.
type sizeOffset struct {
	bytes int32
	known bool
}

type sizeOffsetSet struct{ text, execute sizeOffset }

func (o sizeOffsetSet) of(group string) sizeOffset {
	if group == StmtExecuteGroup {
		return o.execute
	}
	return o.text
}

func sizeOffsets(table *groupTable, ids []uint32, meds []endpointMedians) sizeOffsetSet {
	var text, exec []int32
	for i, id := range ids {
		if !meds[i].bytesEnough {
			continue
		}
		if table.info(id).Name == StmtExecuteGroup {
			exec = append(exec, meds[i].bytes)
		} else {
			text = append(text, meds[i].bytes)
		}
	}
	est := func(ms []int32) sizeOffset {
		if len(ms) == 0 {
			return sizeOffset{}
		}
		return sizeOffset{bytes: median32(ms), known: true}
	}
	return sizeOffsetSet{text: est(text), execute: est(exec)}
}

// endpointMedians are the medians of one endpoint that estimates across endpoints take.
type endpointMedians struct {
	bytes       int32 // lower median of the size differences (bdiff), when there are any
	bytesEnough bool  // at least MinPairs size differences: the endpoint takes part in the offset
	// timing is the median shadow - primary latency of a fast endpoint timed by the proxy
	// (correctTiming's voters), when timed says so.
	timing float64
	timed  bool
}

// medians computes an endpoint's endpointMedians; it reorders bdiff (whose order nothing reads).
func medians(a *groupAcc, minPairs int, sc *scratch) endpointMedians {
	var m endpointMedians
	if len(a.bdiff) > 0 {
		m.bytes, m.bytesEnough = median32(a.bdiff), len(a.bdiff) >= minPairs
	}
	if a.serverTimed == 0 && len(a.pd) >= minPairs {
		var sum float64
		d := sc.float64s(len(a.pd))
		for i := range a.pd {
			sum += float64(a.pd[i])
			d[i] = float64(a.sd[i]) - float64(a.pd[i])
		}
		if sum/float64(len(a.pd)) < fastMeanMS {
			m.timing, m.timed = stats.Median(d), true
		}
	}
	return m
}

// median32 is the lower median of vs, which it reorders.
func median32(vs []int32) int32 {
	return stats.Select(vs, (len(vs)-1)/2)
}

// sizeDivergence compares a group's response sizes with the proxy's offset (its own median
// when the proxy's is unknown). A group is suspected when most of its pairs collapse to an
// error-sized answer, or differ from the offset systematically: in one direction more often
// than chance allows (a sign test at alpha, Bonferroni-corrected by the caller), so that results
// whose sizes vary naturally, both ways, are not taken for different results.
//
// own is the group's lower median difference, its offset when the proxy's is unknown.
func sizeDivergence(a *groupAcc, off sizeOffset, own int32, share, alpha float64) SizeDivergence {
	sd := SizeDivergence{Compared: int64(len(a.bdiff)) + a.collapsed, Collapsed: a.collapsed, Examples: a.collapseEx}
	if len(a.bdiff) == 0 {
		sd.Suspected = a.collapsed > 0 && float64(a.collapsed) >= share*float64(sd.Compared)
		return sd
	}
	offset := off.bytes
	if !off.known {
		offset = own
	}
	sd.OffsetBytes = int64(offset)
	var above, below int64
	for _, d := range a.bdiff {
		switch {
		case d > offset:
			above++
		case d < offset:
			below++
		}
	}
	sd.Differing = above + below
	for _, ex := range a.diffEx {
		if len(sd.Examples) >= 3 {
			break
		}
		if ex.ShadowBytes-ex.PrimaryBytes != int64(offset) {
			sd.Examples = append(sd.Examples, ex)
		}
	}
	// The pairs that differ one way beyond those balanced by the other: symmetric scatter (sizes
	// that vary) nets out, a changed result does not.
	systematic := max(above, below) - min(above, below)
	if stats.SignTest(int(above), int(below)) >= alpha {
		systematic = 0 // scattered both ways as chance would: sizes that vary, not a different result
	}
	sd.Suspected = sd.Collapsed+systematic > 0 && float64(sd.Collapsed+systematic) >= share*float64(sd.Compared)
	return sd
}

// Sort keys for Rank.
const (
	SortImpact = "impact"
	SortDelta  = "delta" // P50 change
	SortP99    = "p99"   // P99 change
	SortPairs  = "pairs"
	SortPValue = "p"
	SortName   = "name"
)

// SortKeys lists the accepted --sort values.
var SortKeys = []string{SortImpact, SortDelta, SortP99, SortPairs, SortPValue, SortName}

// verdictRank orders verdicts: regressions first, then endpoints with failures or suspected
// divergence, then improvements, no change, too little data.
func verdictRank(e *EndpointReport) int {
	switch {
	case e.Verdict == VerdictRegression:
		return 0
	case e.ShadowOnlyFailures > 0 || e.SizeDivergence.Suspected || e.ResultMismatches > 0:
		return 1
	case e.Verdict == VerdictImprovement:
		return 2
	case e.Verdict == VerdictSame:
		return 3
	}
	return 4
}

// Rank orders endpoints: by verdict class, then by key (descending except name).
func Rank(eps []EndpointReport, key string) {
	sort.SliceStable(eps, func(i, j int) bool {
		a, b := &eps[i], &eps[j]
		if ra, rb := verdictRank(a), verdictRank(b); ra != rb {
			return ra < rb
		}
		var x, y float64
		switch key {
		case SortDelta:
			x, y = a.DeltaPct.P50, b.DeltaPct.P50
		case SortP99:
			x, y = a.DeltaPct.P99, b.DeltaPct.P99
		case SortPairs:
			x, y = float64(a.Pairs), float64(b.Pairs)
		case SortPValue:
			x, y = -a.PAdjusted, -b.PAdjusted
		case SortName:
			return a.Endpoint < b.Endpoint
		default:
			x, y = a.ImpactMS, b.ImpactMS
			if a.Verdict == VerdictImprovement {
				x, y = -x, -y
			}
		}
		if x != y {
			return x > y
		}
		return a.Endpoint < b.Endpoint
	})
}

// drill details one group: its worst pairs by change and its errors.
func drill(name string, a *groupAcc, rep *Report) *Drill {
	d := &Drill{Endpoint: name, Worst: []PairDetail{}, Errors: []FailureGroup{}}
	if a == nil {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("endpoint %q has no pairs in these logs", name))
		return d
	}
	// In time order (then query id) first, so that ties in the change are broken the same way
	// whatever order the rows were read in.
	slices.SortFunc(a.detail, func(x, y pairRef) int { return cmp.Or(cmp.Compare(x.ts, y.ts), strings.Compare(x.qid, y.qid)) })
	d.pairs = a.detail
	refs := slices.Clone(a.detail)
	sort.SliceStable(refs, func(i, j int) bool { return ratioOf(refs[i]) > ratioOf(refs[j]) })
	for _, r := range refs[:min(len(refs), worstPairs)] {
		d.Worst = append(d.Worst, r.detail())
	}
	for _, f := range rep.Failures {
		if f.Endpoint == name {
			d.Errors = append(d.Errors, f)
		}
	}
	return d
}

func (r pairRef) detail() PairDetail {
	pd := PairDetail{QueryID: r.qid, TS: time.Unix(0, r.ts).UTC().Format(time.RFC3339Nano), PrimaryMS: round3(float64(r.p)),
		ShadowMS: round3(float64(r.s)), DeltaPct: pct(float64(r.p), float64(r.s)), SQL: truncate(r.sql, 500)}
	if r.hasHash {
		pd.QueryHash = fmt.Sprintf("%x", r.hash)
	}
	return pd
}

func ratioOf(r pairRef) float64 { return math.Max(float64(r.s), 0.001) / math.Max(float64(r.p), 0.001) }

// pct is the change from a to b in percent; a floor of 1 µs keeps 0 ms finite.
func pct(a, b float64) float64 { return round1((math.Max(b, 0.001)/math.Max(a, 0.001) - 1) * 100) }

func round1(x float64) float64 { return math.Round(x*10) / 10 }
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// trimSQL makes one line of SQL for tables.
func trimSQL(s string, n int) string {
	return truncate(strings.Join(strings.Fields(s), " "), n)
}
