//go:build !shadowonly

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/srctl/srctl/analyze"
	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/proxylog"
	"github.com/srctl/srctl/lakehouse/source"
)

type validateOptions struct {
	analysisOptions
	before, after   []string
	changeAt        string
	window          time.Duration
	beforeWindow    string
	afterWindow     string
	target          string
	minExecutions   int
	minDelta        time.Duration
	trafficFactor   float64
	lake            lakeOptions
	splitMode       bool // one stream split by the windows
	beforeW, afterW lakehouse.Window
}

func newValidateCmd(g *globals) *cobra.Command {
	o := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate [LOGS_URI...]",
		Short: "Compare a window before a change with one after it across the whole latency distribution",
		Long: `validate is the loop's last step: after a fix, a config change or an upgrade, it compares the
shadow-proxy logs of a window before the change with a window after it, endpoint by endpoint and
target by target (primary, shadow), and says what improved, what regressed, what did not move
and what cannot be judged: a fix that speeds up the median but blows up the P99 tail is a
regression, named by the quantile.

Windows, either
  one log stream split at a moment:  --change-at TIME [--window 2h] LOGS...
      before = [TIME-2h, TIME), after = [TIME, TIME+2h); without --window, everything
      before TIME against everything from it on;
  or explicit windows of one stream: --before-window START/END --after-window START/END LOGS...
  or two log sets:                   --before LOGS... --after LOGS...
      (--before-window/--after-window then filter each set).
Times are RFC 3339 (2026-03-05T14:00:00Z) or ages (90m, 6h, 2d). Inputs are everything srctl
diff reads: files and directories (Hive partitions pruned by the windows), file://, gs://, s3://,
- for standard input, iceberg://local/<namespace>.proxy_logs tables. Endpoints are named as in
srctl diff (sqlcommenter, Marginalia, --endpoints rules, fingerprints). The proxy's synthetic
rows (filtered or dropped shadow copies), duplicates and bad lines are counted, never compared.

Statistics per endpoint and target, on successful executions (server_ms when every row of both
windows has it, else duration_ms): P50/P90/P95/P99 of each window; each quantile's change with
a distribution-free interval (each window's order-statistic interval, Bonferroni-corrected over
the endpoints tested); a Mann-Whitney test on log latency with its Hodges-Lehmann shift for the
centre, Benjamini-Hochberg across endpoints. A quantile counts as changed when its interval
excludes no change, the change is at least --threshold and at least --min-delta. P50 needs
--min-executions per window, P90 50, P95 100, P99 500; fewer: "cannot evaluate" with the reason.

Also per endpoint: error rates and the error kinds (code and message) that are new, still there
or resolved (a rate that rose significantly marks the endpoint); result changes (answers that
collapse to error size; with srctl shadow's result hashes, the same SQL text returning another
result set); traffic: a share of the executions that moved by --traffic-factor or more (load
changes latency). The report warns when the windows cover different hours of the day, or when
the total traffic moved. With --profiles, the notes of an endpoint with a verdict name the
profile metrics and the operator that moved between the windows.

Headline: endpoints improved / regressed / unchanged / cannot evaluate, by count and by
executions, and the net time saved or lost per day at the after-window's traffic (over the
endpoints with a verdict).

Exit status: 0, or with --fail-on the sum of 4 (a regression), 8 (an endpoint's error rate rose)
and 16 (results changed); 1 on errors (and with --strict on bad input lines); 2 on bad flags.`,
		Example: `  # a fix deployed at 14:00: two hours before against two hours after
  srctl validate --change-at 2026-03-05T14:00:00Z --window 2h gs://my-bucket/shadow-logs/

  # yesterday's logs against today's, only the shadow, as a PR comment; fail CI on a regression
  srctl validate --before ./logs/day=04 --after ./logs/day=05 --target shadow \
    --format markdown --fail-on regression > validate.md

  # one endpoint's latency curves before and after, with the profiles' why
  srctl validate --change-at 6h --endpoint /api/v1/orders/:id --profiles ./lake/starrocks-query-profiles ./logs`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd.Context(), g, o, args, cmd.InOrStdin())
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.before, "before", nil, "log inputs of the window before the change (with --after instead of positional LOGS)")
	f.StringSliceVar(&o.after, "after", nil, "log inputs of the window after the change")
	f.StringVar(&o.changeAt, "change-at", "", "split one log stream at this moment: RFC 3339 or an age (6h)")
	f.DurationVar(&o.window, "window", 0, "with --change-at, the length of each side (0: all logs on each side)")
	f.StringVar(&o.beforeWindow, "before-window", "", "the window before the change: START/END, RFC 3339 or ages")
	f.StringVar(&o.afterWindow, "after-window", "", "the window after the change: START/END, RFC 3339 or ages")
	f.StringVar(&o.target, "target", analyze.TargetBoth, "compare primary, shadow or both (every target the logs have)")
	f.IntVar(&o.minExecutions, "min-executions", analyze.DefaultMinExecutions, "successful executions each window needs for a verdict")
	f.DurationVar(&o.minDelta, "min-delta", 0, "smallest absolute change worth reporting (e.g. 1ms; 0: none)")
	f.Float64Var(&o.trafficFactor, "traffic-factor", analyze.DefaultTrafficFactor, "flag endpoints whose share of the executions moved by this factor or more")
	o.addFlags(f, analysisHelp{
		profiles: "profile records (srctl collect output: paths, gs:// or s3:// prefixes, iceberg://local/NS.profiles) for the why column",
		groupBy:  "group executions by endpoint, fingerprint or query_hash",
		failOn:   "exit non-zero on: regression (4), failure (8: error rate rose), divergence (16: results changed), comma-separated",
		endpoint: "drill into one endpoint: its latency quantile curves before and after (a table and a text chart), and its errors",
		top:      "list at most this many endpoint rows in table and markdown output (0: all)",
	})
	o.lake.addFlags(f)
	return cmd
}

// parseSpan reads START/END (RFC 3339 or ages).
func parseSpan(flag, s string, now time.Time) (lakehouse.Window, error) {
	if s == "" {
		return lakehouse.Window{}, nil
	}
	start, end, ok := strings.Cut(s, "/")
	if !ok {
		return lakehouse.Window{}, usageErrorf("%s %q: want START/END, e.g. 2026-03-05T12:00:00Z/2026-03-05T14:00:00Z or 4h/2h", flag, s)
	}
	var w lakehouse.Window
	var err error
	if w.Since, err = parseWhen(start, now); err != nil {
		return w, usageErrorf("%s start: %v", flag, err)
	}
	if w.Until, err = parseWhen(end, now); err != nil {
		return w, usageErrorf("%s end: %v", flag, err)
	}
	if !w.Since.IsZero() && !w.Until.IsZero() && !w.Since.Before(w.Until) {
		return w, usageErrorf("%s %q: the start is not before the end", flag, s)
	}
	return w, nil
}

func (o *validateOptions) validate(args []string, now time.Time) (analyze.ValidateConfig, error) {
	cfg := analyze.ValidateConfig{GroupBy: o.groupBy, Alpha: o.alpha, MinExecutions: o.minExecutions, TrafficFactor: o.trafficFactor,
		Target: o.target, Endpoint: o.endpoint, Workers: o.workers, MaxLineBytes: o.maxLineBytes,
		PrimaryCluster: o.primaryCluster, ShadowCluster: o.shadowCluster, MinDeltaMS: float64(o.minDelta) / float64(time.Millisecond)}
	twoSets := len(o.before) > 0 || len(o.after) > 0
	switch {
	case twoSets && (len(o.before) == 0 || len(o.after) == 0):
		return cfg, usageErrorf("--before and --after go together: name the logs of both windows")
	case twoSets && len(args) > 0:
		return cfg, usageErrorf("positional logs %q and --before/--after: use one or the other", strings.Join(args, " "))
	case twoSets && o.changeAt != "":
		return cfg, usageErrorf("--change-at splits one log stream; with --before/--after use --before-window/--after-window to filter")
	case !twoSets && len(args) == 0:
		return cfg, usageErrorf("name the logs: LOGS... with --change-at (or --before-window and --after-window), or --before LOGS --after LOGS")
	case !twoSets && o.changeAt == "" && (o.beforeWindow == "" || o.afterWindow == ""):
		return cfg, usageErrorf("one log stream needs --change-at TIME, or both --before-window and --after-window")
	case o.changeAt != "" && (o.beforeWindow != "" || o.afterWindow != ""):
		return cfg, usageErrorf("--change-at and --before-window/--after-window: use one or the other")
	case o.changeAt == "" && o.window != 0:
		return cfg, usageErrorf("--window is the length of each side of --change-at")
	}
	o.splitMode = !twoSets
	var err error
	if o.changeAt != "" {
		at, err := parseWhen(o.changeAt, now)
		if err != nil {
			return cfg, usageErrorf("--change-at: %v", err)
		}
		if o.window < 0 {
			return cfg, usageErrorf("--window %v: want a positive duration", o.window)
		}
		cfg.ChangeAt = at
		o.beforeW, o.afterW = lakehouse.Window{Until: at}, lakehouse.Window{Since: at}
		if o.window > 0 {
			o.beforeW.Since, o.afterW.Until = at.Add(-o.window), at.Add(o.window)
		}
	} else {
		if o.beforeW, err = parseSpan("--before-window", o.beforeWindow, now); err != nil {
			return cfg, err
		}
		if o.afterW, err = parseSpan("--after-window", o.afterWindow, now); err != nil {
			return cfg, err
		}
		if o.splitMode && (o.beforeW.Until.IsZero() || o.afterW.Since.IsZero() || o.afterW.Since.Before(o.beforeW.Until)) {
			return cfg, usageErrorf("--before-window %s must end before --after-window %s starts", o.beforeWindow, o.afterWindow)
		}
	}
	cfg.Before, cfg.After = o.beforeW, o.afterW
	if cfg.Threshold, err = checkStatsFlags(o.groupBy, o.alpha, o.threshold); err != nil {
		return cfg, err
	}
	switch o.target {
	case analyze.TargetBoth, analyze.TargetPrimary, analyze.TargetShadow:
	default:
		return cfg, usageErrorf("--target %q: want primary, shadow or both", o.target)
	}
	if o.minExecutions < 2 {
		return cfg, usageErrorf("--min-executions %d: want at least 2", o.minExecutions)
	}
	if o.minDelta < 0 {
		return cfg, usageErrorf("--min-delta %v: want 0 or a positive duration", o.minDelta)
	}
	if o.trafficFactor <= 1 {
		return cfg, usageErrorf("--traffic-factor %v: want a factor above 1, such as 2", o.trafficFactor)
	}
	if err := checkOutputFlags(o.format, o.color, o.failOn); err != nil {
		return cfg, err
	}
	if o.workers < 0 || o.maxLineBytes < 1024 {
		return cfg, usageErrorf("--workers must be >= 0 and --max-line-bytes >= 1024")
	}
	if o.rulesFile != "" {
		if cfg.Rules, err = readRules(o.rulesFile); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func runValidate(ctx context.Context, g *globals, o *validateOptions, args []string, stdin io.Reader) error {
	cfg, err := o.validate(args, time.Now())
	if err != nil {
		return err
	}
	var in analyze.ValidateInputs
	open := func(inputs []string, w lakehouse.Window, what string) (*source.Set, error) {
		set, err := o.lake.resolve(ctx, inputs, source.ProxyLogs, w, stdin)
		if err != nil {
			return nil, err
		}
		if set.Empty() {
			set.Close()
			return nil, usageErrorf("%sno log files (.jsonl, .jsonl.gz) in %s for the window (%d pruned)", what, strings.Join(inputs, ", "), set.Pruned)
		}
		return set, nil
	}
	// Profiles and, with one stream, the logs are read over both windows.
	span := lakehouse.Window{Since: o.beforeW.Since, Until: o.afterW.Until}
	if o.splitMode {
		logs, err := open(args, span, "")
		if err != nil {
			return err
		}
		defer logs.Close()
		in.Logs = logs
	} else {
		if span.Since.IsZero() || o.afterW.Since.IsZero() || o.beforeW.Since.IsZero() {
			span = lakehouse.Window{}
		}
		b, err := open(o.before, o.beforeW, "--before: ")
		if err != nil {
			return err
		}
		defer b.Close()
		a, err := open(o.after, o.afterW, "--after: ")
		if err != nil {
			return err
		}
		defer a.Close()
		in.Before, in.After = b, a
	}
	if len(o.profiles) > 0 {
		pset, err := o.lake.resolve(ctx, o.profiles, source.Profiles, span.Widened(), stdin)
		if err != nil {
			return fmt.Errorf("--profiles: %w", err)
		}
		defer pset.Close()
		in.Profiles = pset
	}
	prog := &proxylog.Progress{}
	cfg.Progress = prog
	stopProgress := startProgress(g.stderr, prog)
	rep, err := analyze.Validate(ctx, in, cfg)
	stopProgress()
	if err != nil {
		return err
	}
	if err := writeReport(g, o.format, o.color, o.top, rep, reportRenderers[*analyze.ValidateReport]{
		json: analyze.WriteValidateJSON, csv: analyze.WriteValidateCSV, markdown: analyze.RenderValidateMarkdown, table: analyze.RenderValidateTable, html: analyze.WriteValidateHTML}, o.reportHTML); err != nil {
		return err
	}
	h := rep.Headline
	return findingsExit(o.failOn, o.strict, findings{regression: h.Regressed.Endpoints > 0, failure: h.ErrorsWorse > 0,
		divergence: h.ResultsChanged > 0, badLines: rep.Summary.BadLines})
}

// readRules reads an --endpoints file.
func readRules(path string) (*fingerprint.Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("--endpoints: %v", err)
	}
	rules, err := fingerprint.ParseRules(data, path)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return rules, nil
}
