//go:build !shadowonly

package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/srctl/srctl/analyze"
	"github.com/srctl/srctl/lakehouse/proxylog"
	"github.com/srctl/srctl/lakehouse/source"
)

type diffOptions struct {
	analysisOptions
	since, until    string
	minPairs        int
	minDelta        string
	divergenceShare float64
	sortKey         string
	lake            lakeOptions
}

func newDiffCmd(g *globals) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff LOGS_URI...",
		Short: "Rank per-endpoint latency regressions, shadow-only failures and result divergence between primary and shadow",
		Long: `diff reads shadow-proxy query logs (JSONL or JSONL.gz, one row per query per target), pairs the
primary and shadow rows of each mirrored query by query_id, groups pairs by endpoint and tells
which endpoints got slower on the shadow, which fail only there, and which may return different
results.

Inputs are local files or directories (Hive partitions year=/month=/day=/hour= are pruned by
--since/--until), file://, gs:// or s3:// prefixes or objects, - for standard input, or Iceberg
proxy_logs tables (iceberg://local/<namespace>.proxy_logs, see srctl lake; day partitions and
files outside the window are not read).

Endpoint of a query: its sqlcommenter route (else controller#action), its Marginalia tags, the
first --endpoints rule that matches, else its fingerprint class (fp:<id>, shown with a sample).
COM_STMT_EXECUTE rows have no text and form one group of their own; other commands are counted
and left out. Filtered (not mirrored) queries, duplicates, shadow rows the proxy dropped and
connections that never reached the shadow are counted in the summary, never in latency.

Statistics, per endpoint, on pairs where both sides succeeded: P50/P90/P95/P99 of each side and
their change; a Wilcoxon signed-rank test on the paired log(shadow/primary) latency ratios,
Benjamini-Hochberg-corrected across endpoints, for the centre; distribution-free order-statistic
intervals (Bonferroni-corrected) for each quantile's change. A change is reported only when it is
significant AND at least --threshold AND at least --min-delta; "~" means no significant change.
Quantiles need enough pairs: P50 --min-pairs, P90 50, P95 100, P99 500 (n(1-q) >= 5).

Timing: pairs whose rows both carry srctl shadow's server_ms are compared on it. The existing
proxy times the primary while forwarding the answer to the client and the shadow without, so
unchanged fast queries look faster on the shadow: diff measures that asymmetry from the fast
endpoints of the logs, adds it back to the shadow's times, and --min-delta auto (the default)
is twice it. The "timing:" line under the table says what was measured and used.

Logs of srctl shadow carry the server's error code and result hashes: a SQL error is a failure
with its code, and pairs whose rows differ (result_hash and result_set_hash both differ) are
listed per endpoint with examples; the same rows in another order are counted apart.

The existing proxy logs SQL errors as successes, so diff also compares response sizes: a pair
whose shadow answer is error-sized is a suspected error (never a latency sample), and an
endpoint whose shadow responses collapse to error size, or differ in one direction from the
proxy's constant protocol offset (estimated over all endpoints), on most pairs is "suspected".

With --profiles (records of srctl collect for both clusters), the "why" column lists the profile
metrics and operators that moved, and queries FAILED on the shadow cluster but FINISHED on the
primary count as shadow failures.

Exit status: 0, or with --fail-on the sum of 4 (a regression), 8 (shadow-only failures) and 16
(suspected divergence); 1 on errors (and with --strict on bad input lines); 2 on bad flags.`,
		Example: `  # the logs of the last 6 hours, regressions first
  srctl diff --since 6h gs://my-bucket/shadow-logs/

  # a CI gate: JSON for the record, non-zero exit on any regression or shadow-only failure
  srctl diff --format json --fail-on regression,failure ./logs > diff.json

  # one endpoint in detail, with the profiles both clusters collected
  srctl diff --endpoint /api/v1/orders/:id --profiles ./lake/starrocks-query-profiles ./logs`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("name at least one log input (a path, gs:// or s3:// URI, or - for stdin)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.Context(), g, o, args, cmd.InOrStdin())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.since, "since", "", "only queries at or after this time: RFC 3339 (2026-03-05T14:00:00Z) or an age (90m, 6h, 2d)")
	f.StringVar(&o.until, "until", "", "only queries at or before this time: RFC 3339 or an age")
	f.IntVar(&o.minPairs, "min-pairs", analyze.DefaultMinPairs, "pairs an endpoint needs for a verdict")
	f.StringVar(&o.minDelta, "min-delta", "auto", "smallest absolute change worth reporting: a duration (1ms), 0 for none, or auto: twice the proxy's timing asymmetry when the logs show one (see the timing line)")
	f.Float64Var(&o.divergenceShare, "divergence-share", analyze.DefaultDivergenceShare, "share of pairs whose response size must collapse or differ to suspect an endpoint")
	f.StringVar(&o.sortKey, "sort", analyze.SortImpact, "order within each verdict: "+strings.Join(analyze.SortKeys, ", "))
	o.addFlags(f, analysisHelp{
		profiles: "profile records of both clusters (srctl collect output: paths, gs:// or s3:// prefixes, iceberg://local/NS.profiles) for the why column",
		groupBy:  "group pairs by endpoint, fingerprint or query_hash",
		failOn:   "exit non-zero on: regression (4), failure (8), divergence (16), comma-separated",
		endpoint: "drill into one endpoint: quantiles, a text chart of the quantile curves, worst pairs, errors, a profile comparison",
		top:      "list at most this many endpoints in table and markdown output (0: all)",
	})
	o.lake.addFlags(f)
	return cmd
}

func (o *diffOptions) validate(now time.Time) (analyze.Config, error) {
	cfg := analyze.Config{GroupBy: o.groupBy, Alpha: o.alpha, MinPairs: o.minPairs, DivergenceShare: o.divergenceShare,
		Endpoint: o.endpoint, Workers: o.workers, MaxLineBytes: o.maxLineBytes, Sort: o.sortKey,
		PrimaryCluster: o.primaryCluster, ShadowCluster: o.shadowCluster}
	var err error
	if cfg.Threshold, err = checkStatsFlags(o.groupBy, o.alpha, o.threshold); err != nil {
		return cfg, err
	}
	if o.minPairs < 2 {
		return cfg, usageErrorf("--min-pairs %d: want at least 2", o.minPairs)
	}
	switch strings.TrimSpace(o.minDelta) {
	case "auto", "":
		cfg.MinDeltaAuto = true
	default:
		d, err := time.ParseDuration(strings.TrimSpace(o.minDelta)) // "0" is a duration too
		if err != nil || d < 0 {
			return cfg, usageErrorf("--min-delta %q: want auto, 0 or a duration such as 1ms", o.minDelta)
		}
		cfg.MinDeltaMS = float64(d) / float64(time.Millisecond)
	}
	if o.divergenceShare <= 0 || o.divergenceShare > 1 {
		return cfg, usageErrorf("--divergence-share %v: want a share in (0, 1]", o.divergenceShare)
	}
	if !slices.Contains(analyze.SortKeys, o.sortKey) {
		return cfg, usageErrorf("--sort %q: want one of %s", o.sortKey, strings.Join(analyze.SortKeys, ", "))
	}
	if err := checkOutputFlags(o.format, o.color, o.failOn); err != nil {
		return cfg, err
	}
	if o.workers < 0 || o.maxLineBytes < 1024 {
		return cfg, usageErrorf("--workers must be >= 0 and --max-line-bytes >= 1024")
	}
	if cfg.Window.Since, err = parseWhen(o.since, now); err != nil {
		return cfg, usageErrorf("--since: %v", err)
	}
	if cfg.Window.Until, err = parseWhen(o.until, now); err != nil {
		return cfg, usageErrorf("--until: %v", err)
	}
	if !cfg.Window.Since.IsZero() && !cfg.Window.Until.IsZero() && cfg.Window.Until.Before(cfg.Window.Since) {
		return cfg, usageErrorf("--until %s is before --since %s", o.until, o.since)
	}
	if o.rulesFile != "" {
		if cfg.Rules, err = readRules(o.rulesFile); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// checkStatsFlags checks --group-by and --alpha and reads --threshold (a percentage) as a
// fraction: the statistical flags diff and validate share.
func checkStatsFlags(groupBy string, alpha float64, threshold string) (float64, error) {
	switch groupBy {
	case analyze.GroupByEndpoint, analyze.GroupByFingerprint, analyze.GroupByQueryHash:
	default:
		return 0, usageErrorf("--group-by %q: want endpoint, fingerprint or query_hash", groupBy)
	}
	if alpha <= 0 || alpha >= 1 {
		return 0, usageErrorf("--alpha %v: want a number between 0 and 1", alpha)
	}
	thr, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(threshold), "%"), 64)
	if err != nil || thr <= 0 || thr >= 1000 {
		return 0, usageErrorf("--threshold %q: want a percentage such as 10%%", threshold)
	}
	return thr / 100, nil
}

func parseFailOn(s string) (int, error) {
	code := 0
	for _, part := range strings.Split(s, ",") {
		switch strings.TrimSpace(part) {
		case "":
		case "regression":
			code |= exitRegression
		case "failure":
			code |= exitShadowFailure
		case "divergence":
			code |= exitDivergence
		default:
			return 0, usageErrorf("--fail-on %q: want regression, failure and/or divergence", part)
		}
	}
	return code, nil
}

func runDiff(ctx context.Context, g *globals, o *diffOptions, inputs []string, stdin io.Reader) error {
	cfg, err := o.validate(time.Now())
	if err != nil {
		return err
	}
	logs, err := o.lake.resolve(ctx, inputs, source.ProxyLogs, cfg.Window, stdin)
	if err != nil {
		return err
	}
	defer logs.Close()
	if logs.Empty() {
		return usageErrorf("no log files (.jsonl, .jsonl.gz) in %s for the time window (%d pruned)", strings.Join(inputs, ", "), logs.Pruned)
	}
	var profiles analyze.ProfileSource
	if len(o.profiles) > 0 {
		pset, err := o.lake.resolve(ctx, o.profiles, source.Profiles, cfg.Window, stdin)
		if err != nil {
			return fmt.Errorf("--profiles: %w", err)
		}
		defer pset.Close()
		profiles = pset
	}
	prog := &proxylog.Progress{}
	cfg.Progress = prog
	stopProgress := startProgress(g.stderr, prog)
	rep, err := analyze.Diff(ctx, logs, profiles, cfg)
	stopProgress()
	if err != nil {
		return err
	}

	if err := writeReport(g, o.format, o.color, o.top, rep, reportRenderers[*analyze.Report]{
		json: analyze.WriteJSON, csv: analyze.WriteCSV, markdown: analyze.RenderMarkdown, table: analyze.RenderTable, html: analyze.WriteHTML}, o.reportHTML); err != nil {
		return err
	}
	s := rep.Summary
	return findingsExit(o.failOn, o.strict, findings{regression: s.Regressions > 0, failure: s.ShadowOnlyFailures > 0,
		divergence: s.SizeDivergentEndpoints > 0 || s.ResultMismatches > 0, badLines: s.BadLines})
}
