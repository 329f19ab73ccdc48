package harness

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/analyze/plan"
	"github.com/srctl/srctl/analyze/profile"
	"github.com/srctl/srctl/analyze/sqlclass"
)

// Config is what a comparison is told; the command fills it from flags.
type Config struct {
	Warmup     int           // untimed runs per side before the timed ones
	Iterations int           // timed runs per side
	Timeout    time.Duration // per run; 0 = none
	Cold       bool          // bust caches for every run
	Session    []string      // extra "name=value" session settings
	// Threshold is the latency ratio change (0.05 = 5%) below which a significant difference
	// is reported but does not fail; MinLatencyDelta the absolute change below which it does
	// not fail either; Alpha the significance level.
	Threshold       float64
	MinLatencyDelta time.Duration
	Alpha           float64
	FloatTolerance  float64 // relative
	MaxExamples     int     // differing rows shown per case
	MaxLocateRows   int     // differing rows located per side
	MaxCPUIncrease  float64 // 0.25 = 25%; 0 = not checked
	MaxMemIncrease  float64
	// ProfileRuns is the number of profiled runs per side on StarRocks; the metrics compared
	// are each side's medians, because one run's CPU time is as noisy as one run's latency.
	ProfileRuns int
	FailOnPlan  bool
	// ReadOnly (no --allow-writes) adds the server's own guard behind CheckReadOnly: on MySQL
	// and MariaDB every session runs SET SESSION TRANSACTION READ ONLY, so a data change that
	// got past the lexer still fails (DDL is not stopped by it); and the login's grants are
	// read so that the report can say when the login could write.
	ReadOnly bool
	// Progress, when set, receives one line per step of long work.
	Progress func(msg string)
}

// DefaultConfig holds the command's defaults.
func DefaultConfig() Config {
	return Config{Warmup: 1, Iterations: 10, Threshold: 0.05, MinLatencyDelta: 500 * time.Microsecond,
		Alpha: 0.05, FloatTolerance: 1e-9, MaxExamples: 5, MaxLocateRows: 10000,
		MaxCPUIncrease: 0.25, MaxMemIncrease: 0.25, ProfileRuns: 3}
}

// Exit bits of a comparison (OR-ed over cases).
const (
	BitInfrastructure = 1
	BitResultDiff     = 4
	BitLatency        = 8
	BitResource       = 16
	BitCandidateError = 32
	BitPlanChange     = 64
)

// Comparer runs cases against one server.
type Comparer struct {
	db     *sql.DB
	cfg    Config
	server Server
	setup  []string // session statements for every side's connection
	caveat string   // what --cold could not do here
	// writes lists what the login's grants allow beyond reading (ReadOnly runs only).
	writes []string
	ctl    *sql.Conn
	ctlMu  sync.Mutex
	seed   maphash.Seed
	runNo  atomic.Int64 // runs tagged so far (replay runs queries concurrently)
	tool   string       // names the runs in the server's logs: "compare-baseline" or "replay"
	spent  atomic.Int64 // time inside Session.Run, for the overhead benchmark
}

// NewComparer detects the server, prepares the session settings and opens the control
// connection that KILL QUERY is sent from. Close it when done.
func NewComparer(ctx context.Context, db *sql.DB, cfg Config) (*Comparer, error) {
	c := &Comparer{db: db, cfg: cfg, seed: maphash.MakeSeed()}
	ctl, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	c.ctl = ctl
	if c.server, err = Detect(ctx, ctl); err != nil {
		ctl.Close()
		return nil, err
	}
	if cfg.Cold {
		c.setup, c.caveat = ColdSettings(ctx, ctl, c.server)
	}
	for _, kv := range cfg.Session {
		st, err := SetStatement(kv)
		if err != nil {
			ctl.Close()
			return nil, err
		}
		c.setup = append(c.setup, st)
	}
	if cfg.ReadOnly {
		if c.server.Kind == MariaDB || c.server.Kind == MySQL {
			c.setup = append(c.setup, "SET SESSION TRANSACTION READ ONLY")
		}
		if c.writes, err = WritePrivileges(ctx, ctl); err != nil {
			c.writes = []string{"unknown: " + err.Error()}
		}
	}
	return c, nil
}

// Server is what the comparer talks to.
func (c *Comparer) Server() Server { return c.server }

// QueryTime is the time spent running SQL so far (server and network), the part of a
// comparison that is not the harness's own overhead.
func (c *Comparer) QueryTime() time.Duration { return time.Duration(c.spent.Load()) }

// Close releases the control connection.
func (c *Comparer) Close() error { return c.ctl.Close() }

// SetStatement turns --session name=value into a SET statement; values that are not numbers,
// booleans or already quoted are quoted.
func SetStatement(kv string) (string, error) {
	k, v, ok := strings.Cut(kv, "=")
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	if !ok || k == "" || strings.ContainsAny(k, " ;'\"`") {
		return "", fmt.Errorf("--session %q: want name=value", kv)
	}
	if _, err := strconv.ParseFloat(v, 64); err != nil {
		switch strings.ToLower(v) {
		case "true", "false", "on", "off", "default":
		default:
			if !(len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'') {
				v = sqlQuote(v)
			}
		}
	}
	st := fmt.Sprintf("SET %s = %s", k, v)
	if !sqlclass.Classify(st).ReadOnly {
		// 'x'; DROP TABLE t; '' is quoted on both ends but is not one value.
		return "", fmt.Errorf("--session %q: want name=value with one literal value", kv)
	}
	return st, nil
}

// open starts one side's connection with the session settings applied.
func (c *Comparer) open(ctx context.Context) (*Session, error) {
	s, err := OpenSession(ctx, c.db, c.ctl, &c.ctlMu)
	if err != nil {
		return nil, err
	}
	s.spent = &c.spent
	for _, st := range c.setup {
		if _, err := s.conn.ExecContext(ctx, st); err != nil {
			s.Close()
			return nil, fmt.Errorf("session setting %q: %w", st, err)
		}
	}
	return s, nil
}

// CaseResult is everything learned about one case.
type CaseResult struct {
	Case       Case       `json:"case"`
	Bits       int        `json:"exit_bits"`
	Reasons    []string   `json:"reasons"` // why it failed, one line each
	Error      string     `json:"error,omitempty"`
	Candidate  *SideError `json:"candidate_error,omitempty"`
	Result     *RowDiff   `json:"result,omitempty"`
	Latency    *Latency   `json:"latency,omitempty"`
	Plan       *PlanDiff  `json:"plan,omitempty"`
	Profile    *Profiles  `json:"profile,omitempty"`
	Thresholds Thresholds `json:"thresholds"`
	Notes      []string   `json:"notes,omitempty"`
}

// Thresholds are the limits a case was judged by (the command's, or the suite's for it).
type Thresholds struct {
	Latency        float64 `json:"latency"`
	MaxCPUIncrease float64 `json:"max_cpu_increase"`
	MaxMemIncrease float64 `json:"max_mem_increase"`
	FloatTolerance float64 `json:"float_tolerance"`
}

// SideError is a side's failure with the server's message.
type SideError struct {
	Message string `json:"message"`
	Code    uint16 `json:"code,omitempty"`
}

// Passed reports a case with no failing difference.
func (r *CaseResult) Passed() bool { return r.Bits == 0 }

func (c *Comparer) progress(format string, args ...any) {
	if c.cfg.Progress != nil {
		c.cfg.Progress(fmt.Sprintf(format, args...))
	}
}

// Compare runs one case to its verdict. Errors of the baseline or the connection are the
// case's Error (exit bit 1); the candidate's own errors are a finding (bit 32).
func (c *Comparer) Compare(ctx context.Context, cs Case) *CaseResult {
	res := &CaseResult{Case: cs, Thresholds: c.thresholds(cs)}
	if err := c.compare(ctx, cs, res); err != nil {
		res.Error = err.Error()
		res.Bits |= BitInfrastructure
		res.Reasons = append(res.Reasons, "could not compare: "+err.Error())
	}
	return res
}

func (c *Comparer) thresholds(cs Case) Thresholds {
	t := Thresholds{Latency: c.cfg.Threshold, MaxCPUIncrease: c.cfg.MaxCPUIncrease,
		MaxMemIncrease: c.cfg.MaxMemIncrease, FloatTolerance: c.cfg.FloatTolerance}
	o := cs.Overrides
	for _, p := range []struct {
		dst *float64
		src *float64
	}{{&t.Latency, o.Threshold}, {&t.MaxCPUIncrease, o.MaxCPUIncrease}, {&t.MaxMemIncrease, o.MaxMemIncrease}, {&t.FloatTolerance, o.FloatTolerance}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	return t
}

func (c *Comparer) compare(ctx context.Context, cs Case, res *CaseResult) error {
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()

	// 1. Correctness, on the first (untimed) run of each side.
	c.progress("%s: checking results", cs.Name)
	ordered := HasTopLevelOrderBy(cs.Baseline) && HasTopLevelOrderBy(cs.Candidate)
	baseRes, err := c.digest(ctx, a, cs.Baseline, res.Thresholds.FloatTolerance)
	if err != nil {
		return fmt.Errorf("the baseline failed: %w", err)
	}
	candRes, err := c.digest(ctx, b, cs.Candidate, res.Thresholds.FloatTolerance)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		res.Candidate = sideError(err)
		res.Bits |= BitCandidateError
		res.Reasons = append(res.Reasons, "the candidate fails where the baseline succeeds: "+res.Candidate.Message)
		return nil
	}
	rd := &RowDiff{Ordered: ordered, BaselineRows: baseRes.digest.Rows, CandidateRows: candRes.digest.Rows,
		BaselineColumns: baseRes.cols, CandidateColumns: candRes.cols, FirstOrderDiff: -1}
	res.Result = rd
	rd.ColumnsDiffer = !slices.Equal(baseRes.cols, candRes.cols)
	same := baseRes.digest.SameSet(candRes.digest)
	if ordered {
		same = baseRes.digest.SameSequence(candRes.digest)
	}
	if !same || rd.ColumnsDiffer {
		c.progress("%s: results differ; locating the differing rows", cs.Name)
		if err := c.locate(ctx, a, b, cs, rd, res.Thresholds.FloatTolerance); err != nil {
			return fmt.Errorf("locating differing rows: %w", err)
		}
	}
	if rd.Differs() {
		res.Bits |= BitResultDiff
		res.Reasons = append(res.Reasons, rd.Summary())
	}

	// 2. Latency: warm-ups, then interleaved timed runs; a suspected change is run again on
	// new connections before it counts.
	lat, err := c.latency(ctx, cs, a, b, res.Thresholds.Latency)
	if err != nil {
		return err
	}
	res.Latency = lat
	if lat.Verdict != "~" {
		c.progress("%s: %s by %s (%s); confirming on new connections", cs.Name, lat.Verdict, pctChange(lat.Ratio), fmtP(lat.P))
		a2, b2, err := c.openPair(ctx)
		if err != nil {
			return err
		}
		conf, err := c.latency(ctx, cs, a2, b2, res.Thresholds.Latency)
		a2.Close()
		b2.Close()
		if err != nil {
			return err
		}
		lat.Confirmation = conf
		conf.Confirmation = nil
	}
	if lat.Regressed() {
		res.Bits |= BitLatency
		res.Reasons = append(res.Reasons, fmt.Sprintf("latency regression: %s (95%% CI %s to %s, %s), confirmed on new connections",
			pctChange(lat.Ratio), pctChange(lat.RatioLo), pctChange(lat.RatioHi), fmtP(lat.P)))
	}

	// 3. Plans.
	c.progress("%s: comparing plans", cs.Name)
	pd, err := c.comparePlans(ctx, a, b, cs)
	if err != nil {
		res.Notes = append(res.Notes, "plans not compared: "+err.Error())
	} else if pd != nil {
		res.Plan = pd
		if !pd.Same && c.cfg.FailOnPlan {
			res.Bits |= BitPlanChange
			res.Reasons = append(res.Reasons, "the plan changed (--fail-on plan)")
		}
	}

	// 4. Profiles, StarRocks only.
	if c.server.Kind == StarRocks {
		c.progress("%s: fetching profiles", cs.Name)
		prof, err := c.compareProfiles(ctx, cs)
		if err != nil {
			res.Notes = append(res.Notes, "profiles not compared: "+err.Error())
		} else {
			res.Profile = prof
			for _, r := range prof.Exceeded(res.Thresholds) {
				res.Bits |= BitResource
				res.Reasons = append(res.Reasons, r)
			}
		}
	}
	return nil
}

func (c *Comparer) openPair(ctx context.Context) (*Session, *Session, error) {
	a, err := c.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	b, err := c.open(ctx)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

func sideError(err error) *SideError {
	se := &SideError{Message: err.Error()}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		se.Code = me.Number
	}
	return se
}

// tagged marks the last statement of text with a comment unique to this run, so that no cache
// keyed by the statement's text can answer it.
func (c *Comparer) tagged(text, what string) string {
	n := c.runNo.Add(1)
	stmts := fingerprint.Statements(text)
	if len(stmts) == 0 {
		return text
	}
	stmts[len(stmts)-1] = fmt.Sprintf("/* srctl %s %s run %d */ %s", cmp.Or(c.tool, "compare-baseline"), what, n, stmts[len(stmts)-1])
	return strings.Join(stmts, ";\n")
}

type digested struct {
	cols   []Column
	digest Digest
}

// digest runs text once and summarises its result.
func (c *Comparer) digest(ctx context.Context, s *Session, text string, tol float64) (digested, error) {
	var d digested
	var rh *rowHasher
	_, _, err := s.Run(ctx, c.tagged(text, "check"), c.cfg.Timeout, func(row []sql.RawBytes) error {
		d.digest.Add(rh.Hash(row))
		return nil
	}, func(types []*sql.ColumnType) {
		d.cols = columnsOf(types)
		rh = newRowHasher(c.seed, d.cols, tol)
	})
	return d, err
}

// crossable reports whether a case's timed runs may swap sessions: neither text changes the
// session (every statement of both, under every reading, a read).
func crossable(cs Case) bool {
	return sqlclass.Classify(cs.Baseline).Kind == sqlclass.Read && sqlclass.Classify(cs.Candidate).Kind == sqlclass.Read
}

// latency runs the warm-ups and the timed runs, interleaved ABBA so that a drift in time
// (a neighbour's load, a compaction) falls on both sides alike. When neither text changes the
// session (every statement a read), the sides also cross over between the two sessions, each
// run on the other one than the last: a connection that is slower than the other for as long as
// it lives (its server thread on a busier core, another FE behind a load balancer) then weighs on
// both sides instead of reading as a change. Texts that SET session variables keep their own
// session, where their settings hold.
func (c *Comparer) latency(ctx context.Context, cs Case, a, b *Session, threshold float64) (*Latency, error) {
	cross := crossable(cs)
	warm := func(s *Session, text string) error {
		if _, _, err := s.Run(ctx, c.tagged(text, "warm-up"), c.cfg.Timeout, nil, nil); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		return nil
	}
	for i := range c.cfg.Warmup {
		c.progress("%s: warm-up %d/%d", cs.Name, i+1, c.cfg.Warmup)
		if err := cmp.Or(warm(a, cs.Baseline), warm(b, cs.Candidate)); err != nil {
			return nil, err
		}
		if cross { // each text runs timed on both sessions: warm it on both
			if err := cmp.Or(warm(b, cs.Baseline), warm(a, cs.Candidate)); err != nil {
				return nil, err
			}
		}
	}
	var base, cand []run
	timed := func(s *Session, text string) run {
		d, _, err := s.Run(ctx, c.tagged(text, "timed"), c.cfg.Timeout, nil, nil)
		return run{d: d, timedOut: errors.Is(err, ErrTimeout), err: err}
	}
	for i := range c.cfg.Iterations {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if i%5 == 0 || i == c.cfg.Iterations-1 {
			c.progress("%s: timed run %d/%d", cs.Name, i+1, c.cfg.Iterations)
		}
		switch {
		case i%2 == 0:
			base = append(base, timed(a, cs.Baseline))
			cand = append(cand, timed(b, cs.Candidate))
		case cross: // A B, then B A on the same sessions in the same order: the sides swap sessions
			cand = append(cand, timed(a, cs.Candidate))
			base = append(base, timed(b, cs.Baseline))
		default:
			cand = append(cand, timed(b, cs.Candidate))
			base = append(base, timed(a, cs.Baseline))
		}
	}
	l := compareLatency(summarise(base, c.cfg.Timeout), summarise(cand, c.cfg.Timeout), c.cfg.Alpha, threshold, c.cfg.MinLatencyDelta)
	return &l, nil
}

// PlanDiff is the structural comparison of the two EXPLAINs.
type PlanDiff struct {
	plan.Diff
	Statement string `json:"explain"` // the EXPLAIN form used
	Baseline  string `json:"baseline_plan"`
	Candidate string `json:"candidate_plan"`
}

// explainPrefix is the EXPLAIN form per server: an explicit level on StarRocks, because plain
// EXPLAIN changed meaning in 3.3.5/3.2.12; JSON on MySQL and MariaDB.
func (c *Comparer) explainPrefix() string {
	if c.server.Kind == StarRocks {
		return "EXPLAIN COSTS "
	}
	return "EXPLAIN FORMAT=JSON "
}

// explain runs the statements before the last, then EXPLAINs the last. Statements that
// cannot be explained (SHOW, SET) give no plan.
func (c *Comparer) explain(ctx context.Context, s *Session, text string) (string, error) {
	stmts := fingerprint.Statements(text)
	last := stmts[len(stmts)-1]
	if toks := fingerprint.Tokens(last); len(toks) == 0 || (toks[0].Text != "select" && toks[0].Text != "with" && toks[0].Text != "(") {
		return "", nil
	}
	// On its own line: a leading "-- comment" of the statement must not swallow what follows.
	stmts[len(stmts)-1] = c.explainPrefix() + "\n" + last
	var lines []string
	_, _, err := s.Run(ctx, strings.Join(stmts, ";\n"), c.cfg.Timeout, func(row []sql.RawBytes) error {
		lines = append(lines, string(row[0]))
		return nil
	}, nil)
	return strings.Join(lines, "\n"), err
}

func (c *Comparer) comparePlans(ctx context.Context, a, b *Session, cs Case) (*PlanDiff, error) {
	ta, err := c.explain(ctx, a, cs.Baseline)
	if err != nil {
		return nil, fmt.Errorf("EXPLAIN of the baseline: %w", err)
	}
	tb, err := c.explain(ctx, b, cs.Candidate)
	if err != nil {
		return nil, fmt.Errorf("EXPLAIN of the candidate: %w", err)
	}
	if ta == "" || tb == "" {
		return nil, nil
	}
	pa, pb := plan.Parse(ta), plan.Parse(tb)
	if pa.Root == nil || pb.Root == nil {
		return nil, fmt.Errorf("the server's EXPLAIN output could not be parsed")
	}
	return &PlanDiff{Diff: plan.CompareNamed(pa, pb, "baseline", "candidate", 3),
		Statement: strings.TrimSpace(c.explainPrefix()), Baseline: ta, Candidate: tb}, nil
}

// Profiles compare the two sides' StarRocks profiles: the medians, per metric, of
// ProfileRuns untimed, synchronously profiled runs per side.
type Profiles struct {
	Runs             int                    `json:"runs_per_side"`
	BaselineQueryID  string                 `json:"baseline_query_id"` // of the first profiled run
	CandidateQueryID string                 `json:"candidate_query_id"`
	Metrics          []profile.MetricDelta  `json:"metrics"`
	BaselineTop      []profile.OperatorTime `json:"baseline_top_operators,omitempty"`
	CandidateTop     []profile.OperatorTime `json:"candidate_top_operators,omitempty"`
	// MinCPUDeltaNS is the absolute CPU time change below which CPU does not fail (the
	// latency floor, --min-latency-delta).
	MinCPUDeltaNS int64 `json:"min_cpu_delta_ns"`
}

// Metric returns the named metric's delta.
func (p *Profiles) Metric(name string) (profile.MetricDelta, bool) {
	for _, m := range p.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return profile.MetricDelta{}, false
}

// Exceeded lists the resource thresholds the candidate went past. CPU time must also grow by
// more than the latency floor: a fraction of a millisecond is noise, whatever its ratio.
func (p *Profiles) Exceeded(t Thresholds) []string {
	var out []string
	for _, lim := range []struct {
		metric, what string
		max          float64
		floor        int64
	}{{"cpu", "CPU time", t.MaxCPUIncrease, p.MinCPUDeltaNS}, {"peak memory per node", "peak memory per node", t.MaxMemIncrease, 0}} {
		m, ok := p.Metric(lim.metric)
		if !ok || lim.max <= 0 || m.A == 0 && m.B == 0 {
			continue
		}
		if m.Ratio > 1+lim.max && m.Delta > lim.floor {
			out = append(out, fmt.Sprintf("resource regression: %s %s (limit +%.0f%%), median of %d profiled runs per side",
				lim.what, ratioChange(m.Ratio), lim.max*100, p.Runs))
		}
	}
	return out
}

// profileRun runs text once on a new connection with synchronous profiling on, then reads the
// query's id and profile on that connection (get_query_profile answers only on the FE the
// query ran on). The run is not timed: synchronous profiling adds latency.
func (c *Comparer) profileRun(ctx context.Context, text string) (string, *profile.Profile, error) {
	id, _, p, err := c.profileRunText(ctx, text)
	return id, p, err
}

// profileRunText is profileRun that also returns the profile's text.
func (c *Comparer) profileRunText(ctx context.Context, text string) (string, string, *profile.Profile, error) {
	s, err := c.open(ctx)
	if err != nil {
		return "", "", nil, err
	}
	defer s.Close()
	for _, st := range []string{"SET enable_profile = true", "SET enable_async_profile = false"} {
		if _, err := s.conn.ExecContext(ctx, st); err != nil {
			return "", "", nil, fmt.Errorf("%s: %w", st, err)
		}
	}
	if _, _, err := s.Run(ctx, c.tagged(text, "profile"), c.cfg.Timeout, nil, nil); err != nil {
		return "", "", nil, fmt.Errorf("the profiled run: %w", err)
	}
	var id, text2 string
	if err := s.conn.QueryRowContext(ctx, "SELECT last_query_id()").Scan(&id); err != nil {
		return "", "", nil, fmt.Errorf("last_query_id(): %w", err)
	}
	if err := s.conn.QueryRowContext(ctx, "SELECT get_query_profile("+sqlQuote(id)+")").Scan(&text2); err != nil {
		return id, "", nil, fmt.Errorf("get_query_profile(%q): %w", id, err)
	}
	if strings.TrimSpace(text2) == "" {
		return id, "", nil, fmt.Errorf("get_query_profile(%q) returned nothing (profile evicted or not collected)", id)
	}
	return id, text2, profile.Parse(text2), nil
}

func (c *Comparer) compareProfiles(ctx context.Context, cs Case) (*Profiles, error) {
	runs := max(c.cfg.ProfileRuns, 1)
	p := &Profiles{Runs: runs, MinCPUDeltaNS: int64(c.cfg.MinLatencyDelta)}
	var ha, hb []profile.Headline
	for i := range runs {
		id, pa, err := c.profileRun(ctx, cs.Baseline)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		if i == 0 {
			p.BaselineQueryID = id
		}
		ha = append(ha, pa.Headlines())
		id, pb, err := c.profileRun(ctx, cs.Candidate)
		if err != nil {
			return nil, fmt.Errorf("candidate: %w", err)
		}
		if i == 0 {
			p.CandidateQueryID = id
		}
		hb = append(hb, pb.Headlines())
	}
	a, b := profile.MedianHeadline(ha), profile.MedianHeadline(hb)
	p.Metrics, p.BaselineTop, p.CandidateTop = profile.CompareHeadlines(a, b), a.TopOperators, b.TopOperators
	return p, nil
}

// pctChange writes a ratio as a signed percentage: 1.23 -> "+23.0%".
func pctChange(r float64) string {
	return fmt.Sprintf("%+.1f%%", (r-1)*100)
}
