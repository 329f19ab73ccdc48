package harness

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/srctl/srctl/analyze/plan"
	"github.com/srctl/srctl/analyze/profile"
	"github.com/srctl/srctl/analyze/stats"
)

// ReplayConfig says how srctl replay runs logged queries on two servers. Config is
// compare-baseline's (warm-up, iterations, timeout, --cold, session settings, read-only guard,
// float tolerance, alpha); Threshold and MinLatencyDelta are the verdict's floors, as in diff.
type ReplayConfig struct {
	Config
	// Concurrency is how many queries run at once (each on its own pair of connections).
	Concurrency int
	// Rate caps the statements sent per second, both servers together (0: no cap): replay
	// may run against production.
	Rate float64
	// AllowWrites lifts the read-only guard (CheckReadOnly); without it a query that is not
	// certainly a read is refused and listed, never sent.
	AllowWrites bool
}

// DefaultReplayConfig holds srctl replay's defaults.
func DefaultReplayConfig() ReplayConfig {
	c := DefaultConfig()
	c.Iterations, c.Threshold, c.ReadOnly = 5, 0.10, true
	return ReplayConfig{Config: c, Concurrency: 1}
}

// ReplayQuery is one logged execution chosen for replay.
type ReplayQuery struct {
	Endpoint    string  `json:"endpoint"`
	SQL         string  `json:"sql"`
	LoggedMS    float64 `json:"logged_ms"`
	LoggedBytes int64   `json:"logged_bytes"`
}

// QueryReplay is what replaying one query on both servers found.
type QueryReplay struct {
	ReplayQuery
	Refused       string     `json:"refused,omitempty"` // why the guard did not send it
	PrimaryError  *SideError `json:"primary_error,omitempty"`
	ShadowError   *SideError `json:"shadow_error,omitempty"`
	PrimaryRows   int64      `json:"primary_rows"`
	ShadowRows    int64      `json:"shadow_rows"`
	ResultDiffers bool       `json:"result_differs"` // another multiset of rows
	OrderOnly     bool       `json:"order_only"`     // the same rows in another order
	PrimaryMS     []float64  `json:"primary_ms"`     // timed runs
	ShadowMS      []float64  `json:"shadow_ms"`
	// Rows locates the differing rows when the results differ (baseline is the primary,
	// candidate the shadow).
	Rows *RowDiff `json:"rows,omitempty"`
	// Plan compares the EXPLAINs (EXPLAIN COSTS on StarRocks, FORMAT=JSON on MySQL/MariaDB);
	// nil when the statement has none or a server's could not be read.
	Plan      *plan.Diff `json:"plan,omitempty"`
	PlanError string     `json:"plan_error,omitempty"`
}

// pacer spaces statements to a rate shared by every goroutine.
type pacer struct {
	mu    sync.Mutex
	next  time.Time
	every time.Duration
	sent  int64
}

func newPacer(rate float64) *pacer {
	p := &pacer{}
	if rate > 0 {
		p.every = time.Duration(float64(time.Second) / rate)
	}
	return p
}

// wait returns when the next statement may be sent.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	p.sent++
	now := time.Now()
	at := now
	if p.every > 0 {
		at = later(p.next, now)
		p.next = at.Add(p.every)
	}
	p.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ctx.Err()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Replayer runs queries on a primary and a shadow server.
type Replayer struct {
	primary, shadow *Comparer
	cfg             ReplayConfig
	pace            *pacer
}

// NewReplayer prepares both servers (detection, session settings, the read-only session, the
// control connections); shadow may be nil for a capture of one server (Run, Context and
// Profiles need both). Close it when done.
func NewReplayer(ctx context.Context, primary, shadow *sql.DB, cfg ReplayConfig) (*Replayer, error) {
	cfg.ReadOnly = !cfg.AllowWrites
	p, err := NewComparer(ctx, primary, cfg.Config)
	if err != nil {
		return nil, fmt.Errorf("primary: %w", err)
	}
	p.tool = "replay"
	r := &Replayer{primary: p, cfg: cfg, pace: newPacer(cfg.Rate)}
	if shadow == nil { // capture of one server
		return r, nil
	}
	if r.shadow, err = NewComparer(ctx, shadow, cfg.Config); err != nil {
		p.Close()
		return nil, fmt.Errorf("shadow: %w", err)
	}
	r.shadow.seed = p.seed // row hashes must be comparable across the servers
	r.shadow.tool = "replay"
	return r, nil
}

// Close releases the control connections.
func (r *Replayer) Close() error {
	err := r.primary.Close()
	if r.shadow != nil {
		err = errors.Join(err, r.shadow.Close())
	}
	return err
}

// Sent counts the statements sent to both servers so far (the rate limit's unit).
func (r *Replayer) Sent() int64 {
	r.pace.mu.Lock()
	defer r.pace.mu.Unlock()
	return r.pace.sent
}

// Run replays every query (cfg.Concurrency at a time) and returns their results in the order
// given (when ctx is cancelled, those replayed so far). progress (optional) is called after
// each query.
func (r *Replayer) Run(ctx context.Context, qs []ReplayQuery, progress func(done, total int)) []QueryReplay {
	out := make([]QueryReplay, len(qs))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range max(1, r.cfg.Concurrency) {
		wg.Go(func() {
			for i := range next {
				out[i] = r.one(ctx, qs[i])
				mu.Lock()
				done++
				if progress != nil {
					progress(done, len(qs))
				}
				mu.Unlock()
			}
		})
	}
	for i := range qs {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	// Cancelled: only the queries that were replayed.
	kept := out[:0]
	for _, q := range out {
		if q.SQL != "" {
			kept = append(kept, q)
		}
	}
	return kept
}

// one replays a query: the result on each server, then warm-ups and timed runs interleaved
// (primary first on even runs, shadow first on odd ones, so that drift falls on both).
func (r *Replayer) one(ctx context.Context, q ReplayQuery) QueryReplay {
	res := QueryReplay{ReplayQuery: q}
	if !r.cfg.AllowWrites {
		if err := CheckReadOnly(q.SQL); err != nil {
			res.Refused = err.Error()
			return res
		}
	}
	ps, err := r.primary.open(ctx)
	if err != nil {
		res.PrimaryError = sideError(err)
		return res
	}
	defer ps.Close()
	ss, err := r.shadow.open(ctx)
	if err != nil {
		res.ShadowError = sideError(err)
		return res
	}
	defer ss.Close()
	tol := r.cfg.FloatTolerance
	var pd, sd digested
	var perr, serr error
	if perr = r.pace.wait(ctx); perr == nil {
		pd, perr = r.primary.digest(ctx, ps, q.SQL, tol)
	}
	if serr = r.pace.wait(ctx); serr == nil {
		sd, serr = r.shadow.digest(ctx, ss, q.SQL, tol)
	}
	if perr != nil {
		res.PrimaryError = sideError(perr)
	}
	if serr != nil {
		res.ShadowError = sideError(serr)
	}
	if perr != nil || serr != nil {
		return res
	}
	res.PrimaryRows, res.ShadowRows = pd.digest.Rows, sd.digest.Rows
	switch {
	case !pd.digest.SameSet(sd.digest) || !slices.Equal(pd.cols, sd.cols):
		res.ResultDiffers = true
		res.Rows = r.locateRows(ctx, ps, ss, q.SQL, pd, sd)
	case !pd.digest.SameSequence(sd.digest):
		res.OrderOnly = true
	}
	res.Plan, res.PlanError = r.comparePlans(ctx, ps, ss, q.SQL)
	timed := func(c *Comparer, s *Session, what string) (float64, error) {
		if err := r.pace.wait(ctx); err != nil {
			return 0, err
		}
		d, _, err := s.Run(ctx, c.tagged(q.SQL, what), r.cfg.Timeout, nil, nil)
		return float64(d) / float64(time.Millisecond), err
	}
	for range r.cfg.Warmup {
		if _, err := timed(r.primary, ps, "warm-up"); err != nil {
			return res
		}
		if _, err := timed(r.shadow, ss, "warm-up"); err != nil {
			return res
		}
	}
	for i := range r.cfg.Iterations {
		order := []bool{true, false}
		if i%2 == 1 {
			order = []bool{false, true}
		}
		for _, primary := range order {
			c, s, into := r.primary, ps, &res.PrimaryMS
			if !primary {
				c, s, into = r.shadow, ss, &res.ShadowMS
			}
			ms, err := timed(c, s, "timed")
			if err != nil {
				return res // a run that fails after the check: what was timed stays
			}
			*into = append(*into, ms)
		}
	}
	return res
}

// locateRows runs compare-baseline's locate pass across the two servers (three streaming
// passes: primary, shadow, primary) and returns the differing rows; nil when it failed.
func (r *Replayer) locateRows(ctx context.Context, ps, ss *Session, text string, pd, sd digested) *RowDiff {
	rd := &RowDiff{Ordered: HasTopLevelOrderBy(text), BaselineRows: pd.digest.Rows, CandidateRows: sd.digest.Rows,
		BaselineColumns: pd.cols, CandidateColumns: sd.cols, FirstOrderDiff: -1}
	rd.ColumnsDiffer = !slices.Equal(pd.cols, sd.cols)
	for range 3 {
		if r.pace.wait(ctx) != nil {
			return nil
		}
	}
	if err := r.primary.locate(ctx, ps, ss, Case{Baseline: text, Candidate: text}, rd, r.cfg.FloatTolerance); err != nil {
		return nil
	}
	return rd
}

// comparePlans EXPLAINs the query on both servers and compares the plans' structure.
func (r *Replayer) comparePlans(ctx context.Context, ps, ss *Session, text string) (*plan.Diff, string) {
	if err := r.pace.wait(ctx); err != nil {
		return nil, ""
	}
	ta, err := r.primary.explain(ctx, ps, text)
	if err != nil {
		return nil, "primary: " + err.Error()
	}
	if err := r.pace.wait(ctx); err != nil {
		return nil, ""
	}
	tb, err := r.shadow.explain(ctx, ss, text)
	if err != nil {
		return nil, "shadow: " + err.Error()
	}
	if ta == "" || tb == "" {
		return nil, ""
	}
	pa, pb := plan.Parse(ta), plan.Parse(tb)
	if pa.Root == nil || pb.Root == nil {
		return nil, "the EXPLAIN output could not be parsed"
	}
	d := plan.CompareNamed(pa, pb, "primary", "shadow", 3)
	return &d, ""
}

// Profiles profiles, when both servers are StarRocks, each endpoint's query nearest its median
// logged latency on both servers and compares the profiles' headline metrics. The key is the
// endpoint; errors are per endpoint.
func (r *Replayer) Profiles(ctx context.Context, qs []ReplayQuery) (map[string]*Profiles, map[string]string) {
	out, errs := map[string]*Profiles{}, map[string]string{}
	if r.primary.server.Kind != StarRocks || r.shadow.server.Kind != StarRocks {
		return out, errs
	}
	byEP := map[string][]ReplayQuery{}
	var order []string
	for _, q := range qs {
		if _, ok := byEP[q.Endpoint]; !ok {
			order = append(order, q.Endpoint)
		}
		byEP[q.Endpoint] = append(byEP[q.Endpoint], q)
	}
	for _, ep := range order {
		list := slices.Clone(byEP[ep])
		slices.SortStableFunc(list, func(a, b ReplayQuery) int { return cmp.Compare(a.LoggedMS, b.LoggedMS) })
		q := list[len(list)/2]
		if !r.cfg.AllowWrites && CheckReadOnly(q.SQL) != nil {
			continue
		}
		p, err := r.profile(ctx, q.SQL)
		if err != nil {
			errs[ep] = err.Error()
			continue
		}
		out[ep] = p
	}
	return out, errs
}

// profile is compareProfiles across the two servers.
func (r *Replayer) profile(ctx context.Context, text string) (*Profiles, error) {
	runs := max(r.cfg.ProfileRuns, 1)
	p := &Profiles{Runs: runs, MinCPUDeltaNS: int64(r.cfg.MinLatencyDelta)}
	var heads [2][]profile.Headline
	for i := range runs {
		for side, c := range []*Comparer{r.primary, r.shadow} {
			// A profiled run sends five statements: two SETs, the query, the id, the profile.
			for range 5 {
				if err := r.pace.wait(ctx); err != nil {
					return nil, err
				}
			}
			id, pr, err := c.profileRun(ctx, text)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", []string{"primary", "shadow"}[side], err)
			}
			if i == 0 && side == 0 {
				p.BaselineQueryID = id
			} else if i == 0 {
				p.CandidateQueryID = id
			}
			heads[side] = append(heads[side], pr.Headlines())
		}
	}
	a, b := profile.MedianHeadline(heads[0]), profile.MedianHeadline(heads[1])
	p.Metrics, p.BaselineTop, p.CandidateTop = profile.CompareHeadlines(a, b), a.TopOperators, b.TopOperators
	return p, nil
}

// EndpointReplay is one endpoint's replay, over its queries.
type EndpointReplay struct {
	Endpoint string `json:"endpoint"`
	Queries  int    `json:"queries"`
	Refused  int    `json:"refused"`
	// Pairs are the timed runs paired across the servers (run i of a query on each).
	Pairs        int     `json:"pairs"`
	PrimaryP50MS float64 `json:"primary_p50_ms"`
	ShadowP50MS  float64 `json:"shadow_p50_ms"`
	// DeltaPct is the median paired change, shadow against primary.
	DeltaPct  float64 `json:"delta_pct"`
	PValue    float64 `json:"p_value"`
	PAdjusted float64 `json:"p_adjusted"`
	// Verdict: regression, improvement, "~" or "insufficient data" (diff's words).
	Verdict           string       `json:"verdict"`
	ShadowOnlyErrors  int          `json:"shadow_only_errors"`
	PrimaryOnlyErrors int          `json:"primary_only_errors"`
	BothErrors        int          `json:"both_errors"`
	Errors            []ErrorCount `json:"errors"` // by server, code and message
	ResultDifferences int          `json:"result_differences"`
	OrderOnly         int          `json:"order_only"`
	PlanChanges       int          `json:"plan_changes"` // queries whose plan differs in structure
	// Profile compares, on StarRocks, the profiles of the endpoint's query nearest its median
	// logged latency: the medians of ProfileRuns profiled runs on each server (Baseline is the
	// primary, Candidate the shadow).
	Profile      *Profiles `json:"profile,omitempty"`
	ProfileError string    `json:"profile_error,omitempty"`
}

// ErrorCount counts one error of one server.
type ErrorCount struct {
	Server  string `json:"server"` // primary or shadow
	Code    uint16 `json:"code,omitempty"`
	Message string `json:"message"`
	Count   int    `json:"count"`
}

// minReplayPairs is what an endpoint needs for a latency verdict.
const minReplayPairs = 6

// SummariseReplay groups query results by endpoint and judges each: a Wilcoxon signed-rank test
// on the paired log(shadow/primary) run times, Benjamini-Hochberg across endpoints, and diff's
// floors (cfg.Threshold, cfg.MinLatencyDelta). Endpoints come out regressions first.
func SummariseReplay(results []QueryReplay, cfg ReplayConfig) []EndpointReplay {
	byEP := map[string]*EndpointReplay{}
	ratios := map[string][]float32{}
	times := map[string][2][]float64{}
	errs := map[string]map[ErrorCount]int{}
	var order []string
	for _, q := range results {
		e := byEP[q.Endpoint]
		if e == nil {
			e = &EndpointReplay{Endpoint: q.Endpoint, Errors: []ErrorCount{}, PValue: 1, PAdjusted: 1}
			byEP[q.Endpoint] = e
			order = append(order, q.Endpoint)
			errs[q.Endpoint] = map[ErrorCount]int{}
		}
		e.Queries++
		if q.Refused != "" {
			e.Refused++
			continue
		}
		switch {
		case q.PrimaryError != nil && q.ShadowError != nil:
			e.BothErrors++
		case q.ShadowError != nil:
			e.ShadowOnlyErrors++
		case q.PrimaryError != nil:
			e.PrimaryOnlyErrors++
		}
		for server, se := range map[string]*SideError{"primary": q.PrimaryError, "shadow": q.ShadowError} {
			if se != nil {
				errs[q.Endpoint][ErrorCount{Server: server, Code: se.Code, Message: se.Message}]++
			}
		}
		if q.ResultDiffers {
			e.ResultDifferences++
		}
		if q.OrderOnly {
			e.OrderOnly++
		}
		if q.Plan != nil && !q.Plan.Same {
			e.PlanChanges++
		}
		t := times[q.Endpoint]
		for i := range min(len(q.PrimaryMS), len(q.ShadowMS)) {
			p, s := q.PrimaryMS[i], q.ShadowMS[i]
			ratios[q.Endpoint] = append(ratios[q.Endpoint], float32(math.Log(math.Max(s, 0.001)/math.Max(p, 0.001))))
			t[0], t[1] = append(t[0], p), append(t[1], s)
		}
		times[q.Endpoint] = t
	}
	var ps []float64
	var tested []*EndpointReplay
	for _, name := range order {
		e := byEP[name]
		for k, n := range errs[name] {
			k.Count = n
			e.Errors = append(e.Errors, k)
		}
		slices.SortFunc(e.Errors, func(a, b ErrorCount) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Server, b.Server), cmp.Compare(a.Code, b.Code), strings.Compare(a.Message, b.Message))
		})
		d := ratios[name]
		e.Pairs = len(d)
		if e.Pairs == 0 {
			e.Verdict = "insufficient data"
			continue
		}
		t := times[name]
		e.PrimaryP50MS, e.ShadowP50MS = round3(median(t[0])), round3(median(t[1]))
		slices.Sort(d)
		e.DeltaPct = math.Round((math.Exp(stats.Quantile(d, 0.5))-1)*1000) / 10
		if e.Pairs < minReplayPairs {
			e.Verdict = "insufficient data"
			continue
		}
		e.PValue = stats.SignedRankSorted(d).P
		ps = append(ps, e.PValue)
		tested = append(tested, e)
	}
	adj := stats.BenjaminiHochberg(ps)
	floorMS := float64(cfg.MinLatencyDelta) / float64(time.Millisecond)
	for i, e := range tested {
		e.PAdjusted = adj[i]
		big := math.Abs(e.ShadowP50MS-e.PrimaryP50MS) >= floorMS
		switch {
		case e.PAdjusted < cfg.Alpha && e.DeltaPct >= cfg.Threshold*100 && big:
			e.Verdict = "regression"
		case e.PAdjusted < cfg.Alpha && e.DeltaPct <= -cfg.Threshold*100 && big:
			e.Verdict = "improvement"
		default:
			e.Verdict = "~"
		}
	}
	out := make([]EndpointReplay, 0, len(order))
	for _, name := range order {
		out = append(out, *byEP[name])
	}
	rank := func(e *EndpointReplay) int {
		switch {
		case e.Verdict == "regression":
			return 0
		case e.ShadowOnlyErrors > 0 || e.ResultDifferences > 0:
			return 1
		case e.Verdict == "improvement":
			return 2
		}
		return 3
	}
	slices.SortStableFunc(out, func(a, b EndpointReplay) int {
		return cmp.Or(cmp.Compare(rank(&a), rank(&b)), strings.Compare(a.Endpoint, b.Endpoint))
	})
	return out
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
