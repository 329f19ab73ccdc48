//go:build !shadowonly

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/srctl/srctl/analyze"
	"github.com/srctl/srctl/harness"
	"github.com/srctl/srctl/internal/redact"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/source"
)

type replayOptions struct {
	primaryDSN, shadowDSN string
	endpoints             []string
	rulesFile             string
	perEndpoint           int
	since, until          string
	warmup, iterations    int
	timeout               time.Duration
	cold                  bool
	session               []string
	concurrency           int
	rate                  float64
	allowWrites           bool
	threshold             string
	minDelta              time.Duration
	alpha                 float64
	floatTolerance        float64
	profileRuns           int
	format                string
	reportHTML            string
	failOn                string
	workers               int
	quiet                 bool
	records               bool
	primaryCluster        string
	lake                  lakeOptions
}

func newReplayCmd(g *globals) *cobra.Command {
	o := &replayOptions{}
	def := harness.DefaultReplayConfig()
	cmd := &cobra.Command{
		Use:   "replay --primary-dsn DSN --shadow-dsn DSN [flags] LOGS...",
		Short: "Run an endpoint's real logged queries on two servers and compare results, errors, latency and server context",
		Long: `replay reproduces what srctl diff found, under control: it reads shadow-proxy logs (any input
srctl diff reads), picks per endpoint up to --per-endpoint distinct SQL texts (the parameter sets
clients really sent) spread over the latency range the primary logged (fastest and slowest
included, and the largest result), and runs each on both servers.

Per query: the result on each server (a streaming digest of the rows: the same multiset, the same
order), errors with their codes, then --warmup untimed and --iterations timed runs per server,
interleaved (primary first on even runs, shadow first on odd ones). Per endpoint: shadow-only,
primary-only and both errors; result differences; latency as in srctl diff: a Wilcoxon
signed-rank test on the paired log(shadow/primary) run times, Benjamini-Hochberg across
endpoints, a verdict only when significant, at least --threshold and at least --min-delta.

On StarRocks (both servers), each endpoint's query nearest its median logged latency is also run
--profile-runs times per server with synchronous profiling, and the medians of the profiles'
headline metrics (CPU, scan rows and bytes, memory, operators) are compared.

Once per run, the server context: versions; the session variables whose values differ between
the servers after the same session settings (a changed default between versions is a classic
cause); and SHOW CREATE TABLE of every table the queries read from, with the lines found on one
server only (a lost index, a changed key, partitions, buckets).

Safe against production: reads only unless --allow-writes (the guard of compare-baseline: every
statement must be a SELECT, WITH ... SELECT, EXPLAIN, SHOW, DESCRIBE or a SET of session
variables; MySQL/MariaDB sessions also run SET SESSION TRANSACTION READ ONLY); refused queries are
listed, never sent. --rate caps the statements per second (both servers together),
--concurrency the queries at once, --timeout each run (KILL QUERY after it).

The DSNs (--primary-dsn/SRCTL_PRIMARY_DSN, --shadow-dsn/SRCTL_SHADOW_DSN) are go-sql-driver/mysql's
(user:pass@tcp(host:9030)/db) or URLs; their passwords never appear in any output.

Exit status: 0, or with --fail-on the sum of 4 (a regression), 8 (shadow-only errors) and 16
(result differences); 1 on errors; 2 on bad flags.`,
		Example: `  # the two endpoints diff flagged, five parameter sets each, at most 20 statements a second
  srctl replay --primary-dsn "$PRIMARY" --shadow-dsn "$SHADOW" --endpoint /api/v1/orders/:id \
    --endpoint /api/v1/search --rate 20 --since 6h gs://my-bucket/shadow-logs/

  # every endpoint of yesterday's logs, cold caches, as a PR comment
  srctl replay --primary-dsn "$PRIMARY" --shadow-dsn "$SHADOW" --cold --format markdown ./logs/day=04`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd.Context(), g, o, args, cmd.InOrStdin())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.primaryDSN, "primary-dsn", "", "the primary server: user:pass@tcp(host:port)/db or mysql://user:pass@host:port/db")
	f.StringVar(&o.shadowDSN, "shadow-dsn", "", "the shadow server, same forms")
	f.StringArrayVar(&o.endpoints, "endpoint", nil, "replay this endpoint (repeatable; names as srctl diff prints them, fp:<id> included); none: all")
	f.StringVar(&o.rulesFile, "endpoints", "", "YAML endpoint rules for untagged SQL (endpoints: [{name, match}])")
	f.IntVar(&o.perEndpoint, "per-endpoint", 5, "distinct SQL texts replayed per endpoint")
	f.StringVar(&o.since, "since", "", "only logged queries at or after this time: RFC 3339 or an age (6h)")
	f.StringVar(&o.until, "until", "", "only logged queries at or before this time")
	f.IntVar(&o.warmup, "warmup", def.Warmup, "untimed runs per query and server")
	f.IntVar(&o.iterations, "iterations", def.Iterations, "timed runs per query and server")
	f.DurationVar(&o.timeout, "timeout", time.Minute, "per run; a run past it is killed with KILL QUERY (0: none)")
	f.BoolVar(&o.cold, "cold", false, "bust the servers' caches for every run (as compare-baseline)")
	f.StringArrayVar(&o.session, "session", nil, "session variable name=value set on every connection of both servers (repeatable)")
	f.IntVar(&o.concurrency, "concurrency", def.Concurrency, "queries replayed at once")
	f.Float64Var(&o.rate, "rate", 0, "at most this many statements per second, both servers together (0: no cap)")
	f.BoolVar(&o.allowWrites, "allow-writes", false, "also run statements that are not certainly reads (without it they are refused and listed)")
	f.StringVar(&o.threshold, "threshold", "10%", "smallest latency change worth reporting, in percent")
	f.DurationVar(&o.minDelta, "min-delta", def.MinLatencyDelta, "smallest absolute change of the median run worth reporting")
	f.Float64Var(&o.alpha, "alpha", def.Alpha, "false discovery rate of the latency tests")
	f.Float64Var(&o.floatTolerance, "float-tolerance", def.FloatTolerance, "relative tolerance for FLOAT/DOUBLE values in results (0: exact)")
	f.IntVar(&o.profileRuns, "profile-runs", def.ProfileRuns, "StarRocks: profiled runs per server of each endpoint's median query; their medians are compared")
	addReportFlags(f, &o.format, &o.reportHTML)
	f.StringVar(&o.failOn, "fail-on", "", "exit non-zero on: regression (4), failure (8: shadow-only errors), divergence (16: result differences)")
	f.IntVar(&o.workers, "workers", 0, "log parser goroutines (0: one per CPU)")
	f.BoolVar(&o.quiet, "quiet", false, "no progress on stderr")
	addRecordFlags(f, &o.records, &o.primaryCluster)
	o.lake.addFlags(f)
	return cmd
}

func (o *replayOptions) config(now time.Time) (harness.ReplayConfig, harness.Selection, error) {
	cfg := harness.DefaultReplayConfig()
	sel := harness.Selection{Endpoints: o.endpoints, PerEndpoint: o.perEndpoint, Workers: o.workers}
	switch {
	case o.primaryDSN == "" || o.shadowDSN == "":
		return cfg, sel, usageErrorf("name both servers: --primary-dsn and --shadow-dsn (or SRCTL_PRIMARY_DSN and SRCTL_SHADOW_DSN)")
	case o.perEndpoint < 1:
		return cfg, sel, usageErrorf("--per-endpoint %d: want at least 1", o.perEndpoint)
	case o.iterations < 2:
		return cfg, sel, usageErrorf("--iterations %d: want at least 2 timed runs", o.iterations)
	case o.warmup < 0 || o.timeout < 0 || o.minDelta < 0:
		return cfg, sel, usageErrorf("--warmup, --timeout and --min-delta must not be negative")
	case o.concurrency < 1:
		return cfg, sel, usageErrorf("--concurrency %d: want at least 1", o.concurrency)
	case o.rate < 0:
		return cfg, sel, usageErrorf("--rate %g: want 0 (no cap) or a positive number of statements per second", o.rate)
	case o.profileRuns < 1:
		return cfg, sel, usageErrorf("--profile-runs %d: want at least 1", o.profileRuns)
	case o.floatTolerance < 0 || o.floatTolerance >= 1:
		return cfg, sel, usageErrorf("--float-tolerance %g: want 0 <= tolerance < 1", o.floatTolerance)
	}
	thr, err := checkStatsFlags("endpoint", o.alpha, o.threshold)
	if err != nil {
		return cfg, sel, err
	}
	if err := checkOutputFlags(o.format, "never", o.failOn); err != nil {
		return cfg, sel, err
	}
	for _, kv := range o.session {
		if _, err := harness.SetStatement(kv); err != nil {
			return cfg, sel, usageErrorf("%v", err)
		}
	}
	if sel.Window.Since, err = parseWhen(o.since, now); err != nil {
		return cfg, sel, usageErrorf("--since: %v", err)
	}
	if sel.Window.Until, err = parseWhen(o.until, now); err != nil {
		return cfg, sel, usageErrorf("--until: %v", err)
	}
	if o.rulesFile != "" {
		if sel.Rules, err = readRules(o.rulesFile); err != nil {
			return cfg, sel, err
		}
	}
	cfg.Warmup, cfg.Iterations, cfg.Timeout, cfg.Cold, cfg.Session = o.warmup, o.iterations, o.timeout, o.cold, o.session
	cfg.Threshold, cfg.MinLatencyDelta, cfg.Alpha, cfg.FloatTolerance = thr, o.minDelta, o.alpha, o.floatTolerance
	cfg.Concurrency, cfg.Rate, cfg.AllowWrites, cfg.ProfileRuns = o.concurrency, o.rate, o.allowWrites, o.profileRuns
	return cfg, sel, nil
}

func runReplay(ctx context.Context, g *globals, o *replayOptions, args []string, stdin io.Reader) error {
	if len(args) == 0 {
		return usageErrorf("name the logs to take the queries from (a path, gs:// or s3:// URI, iceberg:// table, or - for stdin)")
	}
	cfg, sel, err := o.config(time.Now())
	if err != nil {
		return err
	}
	pcfg, err := harness.ParseDSN(o.primaryDSN)
	if err != nil {
		return usageErrorf("--primary-dsn: %v", redact.Error(err, redact.Secrets(o.primaryDSN)...))
	}
	scfg, err := harness.ParseDSN(o.shadowDSN)
	if err != nil {
		return usageErrorf("--shadow-dsn: %v", redact.Error(err, redact.Secrets(o.shadowDSN)...))
	}
	start := time.Now()
	sel.Cluster = o.primaryCluster
	queries, st, err := selectQueries(ctx, &o.lake, args, sel, o.records, stdin)
	if err != nil {
		return err
	}
	if len(queries) == 0 {
		what := "any endpoint"
		if len(o.endpoints) > 0 {
			what = strings.Join(o.endpoints, ", ")
		}
		return usageErrorf("no successful primary query of %s in %s (%d rows read)", what, strings.Join(args, ", "), st.Rows)
	}
	secrets := append(redact.Secrets(o.primaryDSN), redact.Secrets(o.shadowDSN)...)
	pdb, err := openDB(pcfg)
	if err != nil {
		return err
	}
	defer pdb.Close()
	sdb, err := openDB(scfg)
	if err != nil {
		return err
	}
	defer sdb.Close()
	pdb.SetMaxOpenConns(2*o.concurrency + 2)
	sdb.SetMaxOpenConns(2*o.concurrency + 2)
	rp, err := harness.NewReplayer(ctx, pdb, sdb, cfg)
	if err != nil {
		return fmt.Errorf("%s, %s: %w", harness.Redact(o.primaryDSN), harness.Redact(o.shadowDSN), redact.Error(err, secrets...))
	}
	defer rp.Close()
	sc, err := rp.Context(ctx, queries)
	if err != nil {
		return fmt.Errorf("server context: %w", redact.Error(err, secrets...))
	}
	var progress func(done, total int)
	if !o.quiet {
		progress = func(done, total int) {
			if done == total || done%10 == 0 {
				g.logger.Info("replayed", "queries", done, "of", total)
			}
		}
	}
	results := rp.Run(ctx, queries, progress)
	profiles, profileErrs := rp.Profiles(ctx, queries)
	for ep, e := range profileErrs {
		profileErrs[ep] = redact.Error(fmt.Errorf("%s", e), secrets...).Error()
	}
	rep := harness.NewReplayReport(cfg, st, sc, results, profiles, profileErrs, rp.Sent(), time.Since(start).Seconds())
	if err := writeReport(g, o.format, "never", 0, rep, reportRenderers[*harness.ReplayReport]{
		json:     func(w io.Writer, r *harness.ReplayReport) error { return r.WriteJSON(w) },
		csv:      func(w io.Writer, r *harness.ReplayReport) error { return r.WriteCSV(w) },
		markdown: func(w io.Writer, r *harness.ReplayReport, _ analyze.RenderOptions) error { return r.WriteText(w, true) },
		table: func(w io.Writer, r *harness.ReplayReport, _ analyze.RenderOptions) error {
			return r.WriteText(w, false)
		},
		html: func(w io.Writer, r *harness.ReplayReport, _ analyze.RenderOptions) error { return r.WriteHTML(w) },
	}, o.reportHTML); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return &exitCodeError{code: exitFailure, msg: "interrupted: the report holds the queries replayed so far"}
	}
	s := rep.Summary
	return findingsExit(o.failOn, false, findings{regression: s.Regressions > 0, failure: s.ShadowOnlyErrors > 0, divergence: s.ResultDifferences > 0})
}

// addRecordFlags adds the flags that read srctl collect's records instead of proxy logs.
func addRecordFlags(f *pflag.FlagSet, records *bool, cluster *string) {
	f.BoolVar(records, "records", false, "the inputs are srctl collect's records (profiles: FINISHED queries with the FE's duration) instead of shadow-proxy logs")
	f.StringVar(cluster, "primary-cluster", "primary", "with --records: the --cluster name of the primary's records")
}

// selectQueries resolves the inputs (proxy logs, or collect's records with --records) and picks
// the queries to run.
func selectQueries(ctx context.Context, lake *lakeOptions, args []string, sel harness.Selection, records bool, stdin io.Reader) ([]harness.ReplayQuery, harness.SelectStats, error) {
	kind := source.ProxyLogs
	if records {
		kind = source.Profiles
	}
	set, err := lake.resolve(ctx, args, kind, lakehouse.Window{Since: sel.Window.Since, Until: sel.Window.Until}, stdin)
	if err != nil {
		return nil, harness.SelectStats{}, err
	}
	defer set.Close()
	var qs []harness.ReplayQuery
	var st harness.SelectStats
	if records {
		qs, st, err = harness.SelectFromRecords(ctx, set, sel)
	} else {
		qs, st, err = harness.SelectQueries(ctx, set, sel)
	}
	if err != nil {
		return nil, st, fmt.Errorf("reading %s: %w", strings.Join(args, ", "), err)
	}
	return qs, st, nil
}
