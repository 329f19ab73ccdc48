package harness

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/srctl/srctl/analyze/profile"
	"github.com/srctl/srctl/internal/termsafe"
)

// ReplaySchema names the JSON layout of ReplayReport.
const ReplaySchema = "srctl.replay/v1"

// ReplayReport is what srctl replay prints (README documents the JSON).
type ReplayReport struct {
	Schema    string           `json:"schema"`
	Summary   ReplaySummary    `json:"summary"`
	Settings  ReplaySettings   `json:"settings"`
	Selection SelectStats      `json:"selection"`
	Context   ServerContext    `json:"context"`
	Endpoints []EndpointReplay `json:"endpoints"`
	Queries   []QueryReplay    `json:"queries"`
}

// ReplaySummary counts the findings.
type ReplaySummary struct {
	Endpoints          int     `json:"endpoints"`
	Queries            int     `json:"queries"`
	Refused            int     `json:"refused"`
	Regressions        int     `json:"regressions"`
	Improvements       int     `json:"improvements"`
	ShadowOnlyErrors   int     `json:"shadow_only_errors"`
	PrimaryOnlyErrors  int     `json:"primary_only_errors"`
	ResultDifferences  int     `json:"result_differences"`
	PlanChanges        int     `json:"plan_changes"`
	VariablesDiffering int     `json:"variables_differing"`
	TablesDiffering    int     `json:"tables_differing"`
	Statements         int64   `json:"statements_sent"`
	ElapsedSeconds     float64 `json:"elapsed_seconds"`
}

// ReplaySettings are the run's settings.
type ReplaySettings struct {
	Warmup      int     `json:"warmup"`
	Iterations  int     `json:"iterations"`
	Cold        bool    `json:"cold"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate"`
	ReadOnly    bool    `json:"read_only"`
	Alpha       float64 `json:"alpha"`
	Threshold   float64 `json:"threshold_pct"`
	MinDeltaMS  float64 `json:"min_delta_ms"`
}

// NewReplayReport assembles the report of a run; profiles and their errors are by endpoint
// (Replayer.Profiles; empty off StarRocks).
func NewReplayReport(cfg ReplayConfig, sel SelectStats, sc ServerContext, results []QueryReplay, profiles map[string]*Profiles, profileErrs map[string]string, sent int64, elapsed float64) *ReplayReport {
	eps := SummariseReplay(results, cfg)
	for i := range eps {
		eps[i].Profile, eps[i].ProfileError = profiles[eps[i].Endpoint], profileErrs[eps[i].Endpoint]
	}
	rep := &ReplayReport{Schema: ReplaySchema, Selection: sel, Context: sc, Endpoints: eps, Queries: results,
		Settings: ReplaySettings{Warmup: cfg.Warmup, Iterations: cfg.Iterations, Cold: cfg.Cold, Concurrency: max(1, cfg.Concurrency),
			Rate: cfg.Rate, ReadOnly: !cfg.AllowWrites, Alpha: cfg.Alpha, Threshold: cfg.Threshold * 100,
			MinDeltaMS: float64(cfg.MinLatencyDelta.Microseconds()) / 1000}}
	if rep.Queries == nil {
		rep.Queries = []QueryReplay{}
	}
	s := &rep.Summary
	s.Endpoints, s.Queries, s.Statements, s.ElapsedSeconds = len(eps), len(results), sent, elapsed
	for _, e := range eps {
		s.Refused += e.Refused
		s.ShadowOnlyErrors += e.ShadowOnlyErrors
		s.PrimaryOnlyErrors += e.PrimaryOnlyErrors
		s.ResultDifferences += e.ResultDifferences
		s.PlanChanges += e.PlanChanges
		switch e.Verdict {
		case "regression":
			s.Regressions++
		case "improvement":
			s.Improvements++
		}
	}
	s.VariablesDiffering = len(sc.Variables)
	for _, t := range sc.Tables {
		if !t.Same {
			s.TablesDiffering++
		}
	}
	return rep
}

// WriteJSON writes the report as indented JSON.
func (rep *ReplayReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteCSV writes one row per endpoint.
func (rep *ReplayReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"endpoint", "queries", "refused", "pairs", "primary_p50_ms", "shadow_p50_ms", "delta_pct", "p_value", "p_adjusted", "verdict",
		"shadow_only_errors", "primary_only_errors", "both_errors", "result_differences", "order_only", "plan_changes"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	i := strconv.Itoa
	for _, e := range rep.Endpoints {
		cw.Write([]string{e.Endpoint, i(e.Queries), i(e.Refused), i(e.Pairs), f(e.PrimaryP50MS), f(e.ShadowP50MS), f(e.DeltaPct), f(e.PValue), f(e.PAdjusted),
			e.Verdict, i(e.ShadowOnlyErrors), i(e.PrimaryOnlyErrors), i(e.BothErrors), i(e.ResultDifferences), i(e.OrderOnly), i(e.PlanChanges)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteText writes the terminal report; md makes it Markdown for a PR.
func (rep *ReplayReport) WriteText(w io.Writer, md bool) error {
	s := rep.Summary
	title := fmt.Sprintf("srctl replay: %d endpoints, %d queries on %s %s (primary) and %s %s (shadow)", s.Endpoints, s.Queries,
		rep.Context.Primary.Kind, rep.Context.Primary.Version, rep.Context.Shadow.Kind, rep.Context.Shadow.Version)
	esc := func(x string) string { return x }
	if md {
		fmt.Fprintf(w, "### %s\n\n", title)
		esc = termsafe.Markdown
		fmt.Fprintln(w, "| endpoint | queries | pairs | P50 ms primary → shadow | change | p (adj.) | verdict | errors | results | plans |")
		fmt.Fprintln(w, "|---|---:|---:|---|---:|---|---|---|---|---|")
	} else {
		fmt.Fprintln(w, title)
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	if !md {
		fmt.Fprintln(tw, "ENDPOINT\tQUERIES\tPAIRS\tP50 ms\tCHANGE\tp (adj.)\tVERDICT\tERRORS\tRESULTS\tPLANS")
	}
	for _, e := range rep.Endpoints {
		p50, change, p := "-", "-", "-"
		if e.Pairs > 0 {
			p50 = fmt.Sprintf("%.2f → %.2f", e.PrimaryP50MS, e.ShadowP50MS)
			change = fmt.Sprintf("%+.1f%%", e.DeltaPct)
		}
		if e.Verdict != "insufficient data" {
			p = fmt.Sprintf("%.3g", e.PAdjusted)
		}
		var errs []string
		if e.ShadowOnlyErrors > 0 {
			errs = append(errs, fmt.Sprintf("%d shadow-only", e.ShadowOnlyErrors))
		}
		if e.PrimaryOnlyErrors > 0 {
			errs = append(errs, fmt.Sprintf("%d primary-only", e.PrimaryOnlyErrors))
		}
		if e.BothErrors > 0 {
			errs = append(errs, fmt.Sprintf("%d both", e.BothErrors))
		}
		if e.Refused > 0 {
			errs = append(errs, fmt.Sprintf("%d refused (writes)", e.Refused))
		}
		res := ""
		if e.ResultDifferences > 0 {
			res = fmt.Sprintf("%d differ", e.ResultDifferences)
		}
		if e.OrderOnly > 0 {
			res = strings.TrimPrefix(res+fmt.Sprintf(", %d order only", e.OrderOnly), ", ")
		}
		plans := ""
		if e.PlanChanges > 0 {
			plans = fmt.Sprintf("%d changed", e.PlanChanges)
		}
		cells := []string{esc(e.Endpoint), strconv.Itoa(e.Queries), strconv.Itoa(e.Pairs), p50, change, p, e.Verdict, strings.Join(errs, ", "), res, plans}
		if md {
			cells[0] = termsafe.MarkdownCodeCell(e.Endpoint)
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		} else {
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
	}
	tw.Flush()
	head := func(t string) {
		if md {
			fmt.Fprintf(w, "\n#### %s\n\n", t)
		} else {
			fmt.Fprintf(w, "\n%s\n", t)
		}
	}
	item := func(format string, a ...any) {
		line := fmt.Sprintf(format, a...)
		if md {
			fmt.Fprintf(w, "- %s\n", esc(line))
		} else {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	head("Server context")
	item("versions: primary %s %s, shadow %s %s", rep.Context.Primary.Kind, rep.Context.Primary.Version, rep.Context.Shadow.Kind, rep.Context.Shadow.Version)
	if len(rep.Context.Variables) == 0 {
		item("session variables: the same on both servers")
	}
	for _, v := range rep.Context.Variables {
		item("variable %s: primary %s, shadow %s", v.Name, v.Primary, v.Shadow)
	}
	for _, t := range rep.Context.Tables {
		switch {
		case t.Error != "":
			item("table %s: %s", t.Table, t.Error)
		case t.Same:
			item("table %s: the same definition", t.Table)
		default:
			item("table %s differs: only on the primary: %s; only on the shadow: %s", t.Table, orNone(t.OnlyPrimary), orNone(t.OnlyShadow))
		}
	}
	for _, sec := range rep.detailSections() {
		if len(sec.lines) == 0 {
			continue
		}
		head(sec.title)
		for i, l := range sec.lines {
			if i == 10 {
				item("... %d more (--format json lists all)", len(sec.lines)-10)
				break
			}
			item("%s", l)
		}
	}
	line, method := rep.summaryLine(), rep.methodLine()
	if md {
		fmt.Fprintf(w, "\n%s\n\n_%s_\n", line, method)
	} else {
		fmt.Fprintf(w, "\n%s\n%s\n", line, method)
	}
	return nil
}

func orNone(ls []string) string {
	if len(ls) == 0 {
		return "(none)"
	}
	return strings.Join(ls, " / ")
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		cut := n
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// replaySection is a titled list of findings of the report's text forms.
type replaySection struct {
	title string
	lines []string
}

// detailSections are the findings by kind: errors, result differences, plan changes, profiles,
// refused statements (empty kinds left out).
func (rep *ReplayReport) detailSections() []replaySection {
	var errLines, diffLines, refused, planLines, profLines []string
	for _, e := range rep.Endpoints {
		if e.ProfileError != "" {
			profLines = append(profLines, fmt.Sprintf("%s: %s", e.Endpoint, e.ProfileError))
		}
		if e.Profile == nil {
			continue
		}
		var moved []string
		for _, m := range e.Profile.Metrics {
			if m.Ratio >= 1.25 || m.Ratio <= 0.8 {
				moved = append(moved, fmt.Sprintf("%s x%.2g (%s → %s)", m.Name, m.Ratio, profile.FormatMetric(m.Unit, m.A), profile.FormatMetric(m.Unit, m.B)))
			}
		}
		if len(moved) == 0 {
			moved = []string{"no headline metric moved by 25% or more"}
		}
		profLines = append(profLines, fmt.Sprintf("%s (queries %s / %s, median of %d runs): %s", e.Endpoint, e.Profile.BaselineQueryID,
			e.Profile.CandidateQueryID, e.Profile.Runs, strings.Join(moved[:min(4, len(moved))], "; ")))
	}
	for _, q := range rep.Queries {
		sql := oneLine(q.SQL, 160)
		switch {
		case q.Refused != "":
			refused = append(refused, fmt.Sprintf("%s: %s", q.Endpoint, q.Refused))
		case q.ShadowError != nil && q.PrimaryError == nil:
			errLines = append(errLines, fmt.Sprintf("%s: shadow-only error %d: %s — %s", q.Endpoint, q.ShadowError.Code, oneLine(q.ShadowError.Message, 120), sql))
		case q.PrimaryError != nil && q.ShadowError == nil:
			errLines = append(errLines, fmt.Sprintf("%s: primary-only error %d: %s — %s", q.Endpoint, q.PrimaryError.Code, oneLine(q.PrimaryError.Message, 120), sql))
		case q.ResultDiffers:
			what := "other rows"
			if q.Rows != nil {
				what = strings.NewReplacer("baseline", "primary", "candidate", "shadow").Replace(q.Rows.Summary())
				for _, ex := range q.Rows.Examples[:min(2, len(q.Rows.Examples))] {
					what += "; " + strings.Join(strings.Fields(exampleText(ex)), " ") // primary → shadow
				}
			}
			diffLines = append(diffLines, fmt.Sprintf("%s: %d rows on the primary, %d on the shadow, %s — %s", q.Endpoint, q.PrimaryRows, q.ShadowRows, what, sql))
		}
		if q.Plan != nil && !q.Plan.Same {
			var cs []string
			for _, c := range q.Plan.Changes[:min(2, len(q.Plan.Changes))] {
				cs = append(cs, c.Text)
			}
			planLines = append(planLines, fmt.Sprintf("%s: %s — %s", q.Endpoint, strings.Join(cs, "; "), sql))
		}
	}
	var out []replaySection
	for _, sec := range []replaySection{{"Errors", errLines}, {"Result differences", diffLines}, {"Plan changes (primary → shadow)", planLines}, {"Profiles (StarRocks, primary → shadow)", profLines}, {"Refused (not read-only; --allow-writes runs them)", refused}} {
		if len(sec.lines) > 0 {
			out = append(out, sec)
		}
	}
	return out
}

func (rep *ReplayReport) summaryLine() string {
	s := rep.Summary
	return fmt.Sprintf("%d regressions, %d improvements, %d shadow-only errors, %d result differences, %d plan changes, %d variables and %d tables differ; %d statements in %.1fs",
		s.Regressions, s.Improvements, s.ShadowOnlyErrors, s.ResultDifferences, s.PlanChanges, s.VariablesDiffering, s.TablesDiffering, s.Statements, s.ElapsedSeconds)
}

func (rep *ReplayReport) methodLine() string {
	return fmt.Sprintf("method: %d warm-up and %d timed runs per query and server, interleaved; Wilcoxon signed-rank on paired log(shadow/primary), Benjamini-Hochberg across endpoints, alpha %.3g; a change counts from %.0f%% and %.2f ms",
		rep.Settings.Warmup, rep.Settings.Iterations, rep.Settings.Alpha, rep.Settings.Threshold, rep.Settings.MinDeltaMS)
}
