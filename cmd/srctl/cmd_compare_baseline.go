//go:build !shadowonly

package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/spf13/cobra"

	"github.com/srctl/srctl/harness"
	"github.com/srctl/srctl/internal/redact"
)

// compareOptions are compare-baseline's flags.
type compareOptions struct {
	dsn             string
	baseline        string
	candidate       string
	gitBase         string
	changedSince    string
	include         []string
	suite           string
	params          []string
	paramsFile      string
	allowWrites     bool
	warmup          int
	iterations      int
	timeout         time.Duration
	cold            bool
	session         []string
	threshold       percentFlag
	minLatencyDelta time.Duration
	alpha           float64
	floatTolerance  float64
	maxExamples     int
	maxCPUIncrease  percentFlag
	maxMemIncrease  percentFlag
	profileRuns     int
	failOn          []string
	reportMD        string
	reportHTML      string
	jsonOut         string
	quiet           bool
}

// percentFlag is a flag written "5%" or "5" meaning 0.05.
type percentFlag struct{ v float64 }

func (p *percentFlag) String() string { return fmt.Sprintf("%g%%", p.v*100) }
func (p *percentFlag) Type() string   { return "percent" }
func (p *percentFlag) Set(s string) error {
	v, err := harness.ParsePercent(s)
	if err != nil {
		return err
	}
	p.v = v
	return nil
}

const compareExitTable = `
Exit status (bits, OR-ed over all cases):
   0  every case passed
   1  usage or infrastructure error (bad flag, unreachable server, baseline failed)
   4  result difference (rows or columns)
   8  latency regression (significant, beyond --threshold and --min-latency-delta,
      confirmed by a second set of runs on new connections)
  16  resource regression (StarRocks profile: --max-cpu-increase, --max-mem-increase)
  32  candidate error where the baseline succeeds
  64  plan change (only with --fail-on plan)`

func newCompareBaselineCmd(g *globals) *cobra.Command {
	def := harness.DefaultConfig()
	o := &compareOptions{threshold: percentFlag{def.Threshold}, maxCPUIncrease: percentFlag{def.MaxCPUIncrease},
		maxMemIncrease: percentFlag{def.MaxMemIncrease}}
	cmd := &cobra.Command{
		Use:   "compare-baseline --dsn DSN (--baseline A.sql --candidate B.sql | --git-base REF FILE... | --changed-since REF --include GLOB | --suite FILE)",
		Short: "Gate a SQL change: run baseline and candidate SQL on a real server and compare rows, latency, plans and profiles",
		Long: `compare-baseline runs a baseline and a candidate SQL text against one server (StarRocks, MySQL or
MariaDB) and decides, with evidence a reviewer can read, whether the candidate returns the same
result and is not slower or hungrier.

Inputs (one way per run):
  --baseline A --candidate B      two files
  --git-base REF FILE...          the baseline of each FILE as it is at REF (git show), the
                                  candidate from the working tree
  --changed-since REF --include G every file changed since the merge base of REF and HEAD
                                  (committed or not) that matches a glob (** crosses folders)
  --suite FILE                    a YAML list of cases with per-case thresholds
Files ending in .tmpl are Go text/templates rendered with --param and --params (a list of
parameter sets makes one case per set); {{quote .x}} writes a SQL string literal.

Read-only unless --allow-writes: only SELECT, WITH ... SELECT, EXPLAIN, SHOW, DESCRIBE and SET of
session variables to literal values run, judged by what the whole text does under every way
MySQL, MariaDB or StarRocks may read it (SET STATEMENT ... FOR DELETE, SET @x=1, GLOBAL ...,
executable comments, quoting modes). On MySQL/MariaDB the sessions are also READ ONLY
transactions, and the report warns when the login's grants allow writes.

Per case, on two connections (one per side) with the same session settings:
  1. result: each side's first run is hashed as it streams (NULL-safe, DECIMAL scale ignored,
     floats within --float-tolerance); rows compared as a multiset, or in order when both
     queries have a top-level ORDER BY; on a difference, the rows are located and shown
  2. latency: --warmup runs, then --iterations timed runs per side interleaved (A B B A ...),
     each with a unique comment so no text-keyed cache answers it; Mann-Whitney p-value and the
     Hodges-Lehmann ratio with its 95% interval. A change must be significant, beyond
     --threshold and beyond --min-latency-delta, and a second set on new connections must
     repeat it; otherwise the verdict is "~"
  3. plan: EXPLAIN COSTS (StarRocks) or EXPLAIN FORMAT=JSON (MySQL, MariaDB), compared in words
  4. profile (StarRocks): --profile-runs extra untimed runs per side with synchronous
     profiling, fetched by last_query_id() and get_query_profile(); the medians of CPU time,
     peak memory, scan bytes and rows and spill are compared; CPU fails only past
     --max-cpu-increase AND --min-latency-delta

--cold busts caches on every run: on StarRocks the query cache, page cache and data cache are
switched off for the session; on MySQL/MariaDB only the query cache can be (the report says so).
A run past --timeout is killed with KILL QUERY from a separate connection and counts at the
timeout.

The DSN (--dsn or SRCTL_DSN) is go-sql-driver/mysql's (user:pass@tcp(host:9030)/db) or a URL
(mysql://user:pass@host:port/db, starrocks://... defaults to port 9030); its password is never
printed.` + "\n" + compareExitTable,
		Example: `  # two files against a local server
  srctl compare-baseline --dsn 'root@tcp(127.0.0.1:3306)/test' --baseline old.sql --candidate new.sql

  # in CI: every SQL file the branch changed, a Markdown report for the PR
  export SRCTL_DSN='ci:${PASSWORD}@tcp(starrocks-ci:9030)/shop'
  srctl compare-baseline --changed-since origin/main --include 'sql/**/*.sql' --cold \
    --report-md report.md --json report.json

  # a template, once per parameter set
  srctl compare-baseline --git-base HEAD~1 sql/orders.sql.tmpl --params customers.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := runCompareBaseline(cmd.Context(), g, o, args)
			var ue *usageError
			if errors.As(err, &ue) {
				// This command's contract is exit 1 for usage errors, like CI tools it sits beside.
				return &exitCodeError{code: exitFailure, msg: err.Error()}
			}
			return err
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitCodeError{code: exitFailure, msg: fmt.Sprintf("%v (see '%s --help')", err, c.CommandPath())}
	})
	f := cmd.Flags()
	f.StringVar(&o.dsn, "dsn", "", "server to run on: user:pass@tcp(host:port)/db or mysql://user:pass@host:port/db")
	f.StringVar(&o.baseline, "baseline", "", "baseline SQL file")
	f.StringVar(&o.candidate, "candidate", "", "candidate SQL file")
	f.StringVar(&o.gitBase, "git-base", "", "take each FILE argument's baseline from this git revision, its candidate from the working tree")
	f.StringVar(&o.changedSince, "changed-since", "", "compare every file changed since the merge base of this revision and HEAD")
	f.StringSliceVar(&o.include, "include", nil, "with --changed-since: only files matching these globs (sql/**/*.sql)")
	f.StringVar(&o.suite, "suite", "", "YAML suite of cases (name, baseline, candidate, params, threshold, max_cpu_increase, max_mem_increase, float_tolerance)")
	f.StringArrayVar(&o.params, "param", nil, "template parameter name=value (repeatable; wins over --params)")
	f.StringVar(&o.paramsFile, "params", "", "YAML or JSON file of template parameters: a mapping, or a list of them (one case each)")
	f.BoolVar(&o.allowWrites, "allow-writes", false, "run statements other than SELECT, WITH ... SELECT, EXPLAIN, SHOW, DESCRIBE and SET of session variables to literal values (without it, MySQL/MariaDB sessions also run SET SESSION TRANSACTION READ ONLY)")
	f.IntVar(&o.warmup, "warmup", def.Warmup, "untimed runs per side before the timed ones")
	f.IntVar(&o.iterations, "iterations", def.Iterations, "timed runs per side")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "per run; a run past it is killed with KILL QUERY (0: none)")
	f.BoolVar(&o.cold, "cold", false, "bust the server's caches for every run")
	f.StringArrayVar(&o.session, "session", nil, "session variable name=value set on every connection (repeatable)")
	f.Var(&o.threshold, "threshold", "latency change below which a significant difference does not fail (5% or 5)")
	f.DurationVar(&o.minLatencyDelta, "min-latency-delta", def.MinLatencyDelta, "absolute change of the typical run below which latency does not fail (0: no floor)")
	f.Float64Var(&o.alpha, "alpha", def.Alpha, "significance level of the latency test")
	f.Float64Var(&o.floatTolerance, "float-tolerance", def.FloatTolerance, "relative tolerance for FLOAT/DOUBLE values (0: exact)")
	f.IntVar(&o.maxExamples, "max-examples", def.MaxExamples, "differing rows shown per case")
	f.Var(&o.maxCPUIncrease, "max-cpu-increase", "StarRocks: profile CPU time increase that fails the case (0: not checked)")
	f.Var(&o.maxMemIncrease, "max-mem-increase", "StarRocks: profile peak memory increase that fails the case (0: not checked)")
	f.IntVar(&o.profileRuns, "profile-runs", def.ProfileRuns, "StarRocks: profiled runs per side (untimed); their medians are compared")
	f.StringSliceVar(&o.failOn, "fail-on", nil, "also fail on: plan (a changed plan, exit bit 64)")
	f.StringVar(&o.reportMD, "report-md", "", "write a Markdown report for the PR here (also appended to $GITHUB_STEP_SUMMARY when set)")
	f.StringVar(&o.reportHTML, "report-html", "", "write the report as one self-contained HTML page with latency plots here (opens offline; attach it to the CI run)")
	f.StringVar(&o.jsonOut, "json", "", "write the report as JSON (schema "+harness.ReportSchema+") here, - for stdout")
	f.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	return cmd
}

func (o *compareOptions) config(g *globals) (harness.Config, error) {
	cfg := harness.DefaultConfig()
	switch {
	case o.iterations < 2:
		return cfg, usageErrorf("--iterations %d: want at least 2 timed runs per side", o.iterations)
	case o.warmup < 0:
		return cfg, usageErrorf("--warmup %d: want 0 or more", o.warmup)
	case o.timeout < 0:
		return cfg, usageErrorf("--timeout %v: want 0 (none) or a positive duration", o.timeout)
	case o.alpha <= 0 || o.alpha >= 0.5:
		return cfg, usageErrorf("--alpha %g: want 0 < alpha < 0.5", o.alpha)
	case o.floatTolerance < 0 || o.floatTolerance >= 1:
		return cfg, usageErrorf("--float-tolerance %g: want 0 <= tolerance < 1", o.floatTolerance)
	case o.maxExamples < 0:
		return cfg, usageErrorf("--max-examples %d: want 0 or more", o.maxExamples)
	case o.profileRuns < 1:
		return cfg, usageErrorf("--profile-runs %d: want at least 1", o.profileRuns)
	case o.minLatencyDelta < 0:
		return cfg, usageErrorf("--min-latency-delta %v: want 0 or more", o.minLatencyDelta)
	}
	for _, f := range o.failOn {
		if f != "plan" {
			return cfg, usageErrorf("--fail-on %q: want plan", f)
		}
		cfg.FailOnPlan = true
	}
	for _, kv := range o.session {
		if _, err := harness.SetStatement(kv); err != nil {
			return cfg, usageErrorf("%v", err)
		}
	}
	cfg.Warmup, cfg.Iterations, cfg.Timeout, cfg.Cold, cfg.Session = o.warmup, o.iterations, o.timeout, o.cold, o.session
	cfg.Threshold, cfg.MinLatencyDelta, cfg.Alpha = o.threshold.v, o.minLatencyDelta, o.alpha
	cfg.FloatTolerance, cfg.MaxExamples = o.floatTolerance, o.maxExamples
	cfg.MaxCPUIncrease, cfg.MaxMemIncrease, cfg.ProfileRuns = o.maxCPUIncrease.v, o.maxMemIncrease.v, o.profileRuns
	cfg.ReadOnly = !o.allowWrites
	if !o.quiet {
		cfg.Progress = func(msg string) { g.logger.Info(msg) }
	}
	return cfg, nil
}

// cases builds the cases from whichever input mode was chosen, refusing mixtures.
func (o *compareOptions) cases(ctx context.Context, g *globals, args []string) ([]harness.Case, error) {
	modes := 0
	for _, set := range []bool{o.baseline != "" || o.candidate != "", o.gitBase != "", o.changedSince != "", o.suite != ""} {
		if set {
			modes++
		}
	}
	if modes != 1 {
		return nil, usageErrorf("choose one input: --baseline and --candidate, --git-base REF FILE..., --changed-since REF, or --suite FILE")
	}
	if len(args) > 0 && o.gitBase == "" {
		return nil, usageErrorf("unexpected arguments %q (files are arguments only with --git-base)", args)
	}
	if len(o.include) > 0 && o.changedSince == "" {
		return nil, usageErrorf("--include goes with --changed-since")
	}
	if o.suite != "" {
		if len(o.params) > 0 || o.paramsFile != "" {
			return nil, usageErrorf("--param and --params do not apply to --suite (cases carry their own params)")
		}
		cs, err := harness.LoadSuite(o.suite)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		return cs, nil
	}
	sets, err := o.paramSets()
	if err != nil {
		return nil, err
	}
	src := harness.SourceReader{}
	var raw []harness.Case
	switch {
	case o.baseline != "" || o.candidate != "":
		if o.baseline == "" || o.candidate == "" {
			return nil, usageErrorf("--baseline and --candidate go together")
		}
		c := harness.Case{Name: harness.CaseName(o.candidate), BaselineSource: o.baseline, CandidateSource: o.candidate}
		if c.Baseline, err = src.ReadFile(o.baseline); err != nil {
			return nil, usageErrorf("--baseline: %v", err)
		}
		if c.Candidate, err = src.ReadFile(o.candidate); err != nil {
			return nil, usageErrorf("--candidate: %v", err)
		}
		raw = append(raw, c)
	default:
		rev, files := o.gitBase, args
		if o.changedSince != "" {
			if files, err = src.ChangedFiles(ctx, o.changedSince, o.include); err != nil {
				return nil, usageErrorf("%v", err)
			}
			base, err := src.MergeBase(ctx, o.changedSince)
			if err != nil {
				return nil, usageErrorf("%v", err)
			}
			rev = base
			if len(files) == 0 {
				g.logger.Info("no changed file matches", "since", o.changedSince, "include", strings.Join(o.include, ","))
			}
		} else if len(files) == 0 {
			return nil, usageErrorf("--git-base %s: name the files to compare", rev)
		}
		for _, f := range files {
			c := harness.Case{Name: harness.CaseName(f), BaselineSource: "git:" + shortRev(rev) + ":" + f, CandidateSource: f}
			if c.Baseline, err = src.GitShow(ctx, rev, f); err != nil {
				if harness.IsNotInRevision(err) {
					g.logger.Warn("skipping a file with no baseline (new since that revision)", "file", f, "revision", rev)
					continue
				}
				return nil, usageErrorf("%v", err)
			}
			if c.Candidate, err = src.ReadFile(f); err != nil {
				return nil, usageErrorf("%v", err)
			}
			raw = append(raw, c)
		}
	}
	var cases []harness.Case
	for _, c := range raw {
		exp, err := harness.Expand(c, sets)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		cases = append(cases, exp...)
	}
	return cases, nil
}

func (o *compareOptions) paramSets() ([]map[string]any, error) {
	var sets []map[string]any
	if o.paramsFile != "" {
		data, err := os.ReadFile(o.paramsFile)
		if err != nil {
			return nil, usageErrorf("--params: %v", err)
		}
		if sets, err = harness.ParamSets(data, o.paramsFile); err != nil {
			return nil, usageErrorf("--params: %v", err)
		}
	}
	over := map[string]any{}
	for _, kv := range o.params {
		k, v, err := harness.ParseParam(kv)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		over[k] = v
	}
	return harness.MergeParams(sets, over), nil
}

func shortRev(rev string) string {
	if len(rev) == 40 {
		return rev[:12]
	}
	return rev
}

func runCompareBaseline(ctx context.Context, g *globals, o *compareOptions, args []string) error {
	cfg, err := o.config(g)
	if err != nil {
		return err
	}
	mcfg, err := harness.ParseDSN(o.dsn)
	if err != nil {
		return usageErrorf("%v", err)
	}
	cases, err := o.cases(ctx, g, args)
	if err != nil {
		return err
	}
	if !o.allowWrites {
		for _, c := range cases {
			for side, text := range map[string]string{"baseline": c.Baseline, "candidate": c.Candidate} {
				if err := harness.CheckReadOnly(text); err != nil {
					return usageErrorf("case %s, %s: %v", c.Name, side, err)
				}
			}
		}
	}
	for _, c := range cases {
		if strings.TrimSpace(c.Baseline) == "" || strings.TrimSpace(c.Candidate) == "" {
			return usageErrorf("case %s: an empty SQL text", c.Name)
		}
	}

	db, err := openDB(mcfg)
	if err != nil {
		return err
	}
	defer db.Close()
	comparer, err := harness.NewComparer(ctx, db, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", harness.Redact(o.dsn), redact.Error(err, redact.Secrets(o.dsn)...))
	}
	defer comparer.Close()
	rep := harness.NewReport(comparer, o.dsn)
	if !o.quiet {
		g.logger.Info("comparing", "server", string(comparer.Server().Kind), "version", comparer.Server().Version, "cases", len(cases))
	}
	for _, c := range cases {
		if ctx.Err() != nil {
			break
		}
		rep.Add(comparer.Compare(ctx, c))
	}
	if ctx.Err() != nil {
		rep.ExitCode |= harness.BitInfrastructure
	}
	if err := writeCompareOutputs(g, o, rep); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return &exitCodeError{code: rep.ExitCode, msg: "interrupted: the report holds the cases compared so far"}
	}
	if rep.ExitCode != 0 {
		return &exitCodeError{code: rep.ExitCode}
	}
	return nil
}

// openDB opens a pool that never reuses a closed connection: the confirmation set must run
// on new connections, and a session's settings must not leak into the next case.
func openDB(cfg *mysql.Config) (*sql.DB, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, usageErrorf("DSN: %v", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxIdleConns(0)
	return db, nil
}
