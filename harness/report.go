package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/srctl/srctl/analyze/profile"
)

// ReportSchema names the JSON layout of Report; a breaking change bumps its version.
const ReportSchema = "srctl.compare-baseline/v1"

// Report is a whole comparison: the settings, the server and every case.
type Report struct {
	Schema     string   `json:"schema"`
	Server     Server   `json:"server"`
	DSN        string   `json:"dsn"` // redacted
	Settings   Settings `json:"settings"`
	ColdCaveat string   `json:"cold_caveat,omitempty"`
	// LoginWrites lists what the login's grants allow beyond reading (runs without
	// --allow-writes): the read-only guard is then all that keeps the SQL from changing data.
	LoginWrites []string      `json:"login_write_privileges,omitempty"`
	Cases       []*CaseResult `json:"cases"`
	ExitCode    int           `json:"exit_code"`
}

// Settings are the run's parameters as the report states them.
type Settings struct {
	Warmup          int      `json:"warmup"`
	Iterations      int      `json:"iterations"`
	TimeoutMS       float64  `json:"timeout_ms"`
	Cold            bool     `json:"cold"`
	SessionSetup    []string `json:"session_setup"`
	Alpha           float64  `json:"alpha"`
	MinLatencyDelta float64  `json:"min_latency_delta_ms"`
	FailOnPlan      bool     `json:"fail_on_plan"`
}

// NewReport starts a report for cfg's run.
func NewReport(c *Comparer, dsn string) *Report {
	cfg := c.cfg
	return &Report{Schema: ReportSchema, Server: c.server, DSN: Redact(dsn), ColdCaveat: c.caveat, LoginWrites: c.writes,
		Settings: Settings{Warmup: cfg.Warmup, Iterations: cfg.Iterations, TimeoutMS: ms(cfg.Timeout), Cold: cfg.Cold,
			SessionSetup: c.setup, Alpha: cfg.Alpha, MinLatencyDelta: ms(cfg.MinLatencyDelta), FailOnPlan: cfg.FailOnPlan}}
}

// Add records a case and folds its bits into the exit code.
func (r *Report) Add(cr *CaseResult) {
	r.Cases = append(r.Cases, cr)
	r.ExitCode |= cr.Bits
}

// Failed counts the failing cases.
func (r *Report) Failed() int {
	n := 0
	for _, c := range r.Cases {
		if !c.Passed() {
			n++
		}
	}
	return n
}

// WriteJSON writes the report (schema ReportSchema).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// verdictWord is a case's verdict in a word or two.
func verdictWord(c *CaseResult) string {
	if c.Passed() {
		return "PASS"
	}
	var why []string
	for _, b := range []struct {
		bit  int
		word string
	}{{BitInfrastructure, "error"}, {BitCandidateError, "candidate error"}, {BitResultDiff, "result difference"},
		{BitLatency, "latency regression"}, {BitResource, "resource regression"}, {BitPlanChange, "plan change"}} {
		if c.Bits&b.bit != 0 {
			why = append(why, b.word)
		}
	}
	return "FAIL (" + strings.Join(why, ", ") + ")"
}

// resultLine says what the result comparison found.
func resultLine(c *CaseResult) string {
	switch {
	case c.Result == nil:
		return "not compared"
	case c.Result.Differs():
		return c.Result.Summary()
	}
	how := "as a multiset"
	if c.Result.Ordered {
		how = "in order"
	}
	s := fmt.Sprintf("same %d rows (%s)", c.Result.BaselineRows, how)
	if c.Result.OtherOrder {
		s += ", in another order (no ORDER BY on both sides, so not a difference)"
	}
	return s
}

// latencyLine says what the timed runs found, benchstat-style.
func latencyLine(l *Latency) string {
	if l == nil {
		return "not measured"
	}
	s := fmt.Sprintf("%s → %s median (p90 %s → %s), %s", fmtMS(l.Baseline.MedianMS), fmtMS(l.Candidate.MedianMS),
		fmtMS(l.Baseline.P90MS), fmtMS(l.Candidate.P90MS), changeWithCI(l))
	return s + "  " + latencyVerdict(l)
}

func changeWithCI(l *Latency) string {
	if l.RatioLo == 0 && l.RatioHi == 0 {
		return fmt.Sprintf("%s (%s, n=%d+%d)", pctChange(l.Ratio), fmtP(l.P), len(l.Baseline.Samples), len(l.Candidate.Samples))
	}
	return fmt.Sprintf("%s [%s, %s] (%s, n=%d+%d)", pctChange(l.Ratio), pctChange(l.RatioLo), pctChange(l.RatioHi),
		fmtP(l.P), len(l.Baseline.Samples), len(l.Candidate.Samples))
}

func latencyVerdict(l *Latency) string {
	switch {
	case l.Regressed():
		return "slower (confirmed on new connections)"
	case l.Improved():
		return "faster (confirmed on new connections)"
	case l.Confirmation != nil:
		return fmt.Sprintf("~ (%s not confirmed: second set %s, %s)", l.Verdict, pctChange(l.Confirmation.Ratio), fmtP(l.Confirmation.P))
	case l.BelowFloor:
		return fmt.Sprintf("~ (moved %s, under the %s floor)", fmtMS(math.Abs(l.DeltaMS)), fmtMS(l.MinDeltaMS))
	}
	return "~"
}

// fmtP writes a p-value as benchstat does: "p=0.012", or "p<0.001".
func fmtP(p float64) string {
	if p < 0.001 {
		return "p<0.001"
	}
	return fmt.Sprintf("p=%.3f", p)
}

// fmtMS writes milliseconds with three significant digits.
func fmtMS(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	case v >= 1:
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.3f ms", v)
}

func planLine(c *CaseResult) string {
	switch {
	case c.Plan == nil:
		return "not compared"
	case c.Plan.Same:
		return "same plan"
	}
	words := make([]string, len(c.Plan.Changes))
	for i, ch := range c.Plan.Changes {
		words[i] = ch.Text
	}
	return "changed: " + strings.Join(words, "; ")
}

// profileMetrics are the profile metrics a report shows, in order.
var profileMetrics = []string{"cpu", "peak memory per node", "scanned", "scan rows", "spill", "total"}

func profileLine(p *Profiles) string {
	if p == nil {
		return ""
	}
	var parts []string
	for _, name := range profileMetrics {
		m, ok := p.Metric(name)
		if !ok || (m.A == 0 && m.B == 0) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s → %s (%s)", name, profile.FormatMetric(m.Unit, m.A), profile.FormatMetric(m.Unit, m.B), ratioChange(m.Ratio)))
	}
	if len(parts) == 0 {
		return "no metric moved"
	}
	return strings.Join(parts, ", ")
}

func ratioChange(r float64) string {
	if math.IsInf(r, 1) {
		return "new"
	}
	return pctChange(r)
}

// WriteText writes the terminal summary.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("srctl compare-baseline on %s %s (%s): %d timed runs per side after %d warm-up, interleaved\n",
		r.Server.Kind, r.Server.Version, r.DSN, r.Settings.Iterations, r.Settings.Warmup)
	if r.ColdCaveat != "" {
		ew.printf("note: --cold: %s\n", r.ColdCaveat)
	}
	if len(r.LoginWrites) > 0 {
		ew.printf("warning: this login can write (%s): only the read-only guard keeps these SQL files from changing data; use a login that can only read\n",
			strings.Join(r.LoginWrites, "; "))
	}
	for _, c := range r.Cases {
		ew.printf("\n%s  %s\n", c.Case.Name, verdictWord(c))
		ew.printf("  sources    %s → %s\n", c.Case.BaselineSource, c.Case.CandidateSource)
		if c.Error != "" {
			ew.printf("  error      %s\n", c.Error)
		}
		if c.Candidate != nil {
			ew.printf("  candidate  error: %s\n", c.Candidate.Message)
		}
		if c.Result != nil {
			ew.printf("  result     %s\n", resultLine(c))
			for _, ex := range c.Result.Examples {
				ew.printf("             %s\n", exampleText(ex))
			}
		}
		if c.Latency != nil {
			ew.printf("  latency    %s\n", latencyLine(c.Latency))
		}
		if c.Plan != nil {
			ew.printf("  plan       %s\n", planLine(c))
		}
		if c.Profile != nil {
			ew.printf("  profile    %s (medians of %d runs)\n", profileLine(c.Profile), c.Profile.Runs)
		}
		for _, n := range c.Notes {
			ew.printf("  note       %s\n", n)
		}
	}
	ew.printf("\n%d case(s), %d failed; exit code %d\n", len(r.Cases), r.Failed(), r.ExitCode)
	return ew.err
}

func exampleText(ex RowExample) string {
	switch ex.Kind {
	case "changed":
		return fmt.Sprintf("changed  %s → %s", rowText(ex.Baseline), rowText(ex.Candidate))
	case "missing":
		return "missing  " + rowText(ex.Baseline)
	case "extra":
		return "extra    " + rowText(ex.Candidate)
	}
	return fmt.Sprintf("order    row %d: %s → %s", ex.Position, rowText(ex.Baseline), rowText(ex.Candidate))
}

func rowText(row []*string) string {
	s := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			s[i] = "NULL"
		} else {
			s[i] = clipValue(*v)
		}
	}
	return "(" + strings.Join(s, ", ") + ")"
}

func clipValue(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// WriteMarkdown writes the PR report: a verdict table, then each case's details in a
// collapsible section.
func (r *Report) WriteMarkdown(w io.Writer) error {
	ew := &errWriter{w: w}
	status := "✅ PASS"
	if r.ExitCode != 0 {
		status = fmt.Sprintf("❌ FAIL (%d of %d cases)", r.Failed(), len(r.Cases))
	}
	ew.printf("## srctl compare-baseline: %s\n\n", status)
	ew.printf("%s %s · %d timed runs per side after %d warm-up, interleaved · α=%g", r.Server.Kind, mdEscape(r.Server.Version),
		r.Settings.Iterations, r.Settings.Warmup, r.Settings.Alpha)
	if r.Settings.Cold {
		ew.printf(" · cold runs")
	}
	ew.printf("\n\n")
	if r.ColdCaveat != "" {
		ew.printf("> --cold: %s\n\n", mdEscape(r.ColdCaveat))
	}
	if len(r.LoginWrites) > 0 {
		ew.printf("> ⚠️ this login can write (%s): only the read-only guard keeps these SQL files from changing data; use a login that can only read\n\n",
			mdEscape(strings.Join(r.LoginWrites, "; ")))
	}
	ew.printf("| case | verdict | result | latency (median) | change | plan | resources |\n|---|---|---|---|---|---|---|\n")
	for _, c := range r.Cases {
		verdict := "✅ pass"
		if !c.Passed() {
			verdict = "❌ " + strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(verdictWord(c), "FAIL ("), ")"))
		}
		result, lat, change, pl, res := "—", "—", "—", "—", "—"
		if c.Candidate != nil {
			result = "candidate error"
		}
		if c.Result != nil {
			result = mdEscape(shortResult(c.Result))
		}
		if l := c.Latency; l != nil {
			lat = fmt.Sprintf("%s → %s", fmtMS(l.Baseline.MedianMS), fmtMS(l.Candidate.MedianMS))
			change = fmt.Sprintf("%s (%s)", pctChange(l.Ratio), fmtP(l.P))
			switch {
			case l.Regressed() || l.Improved():
			case l.Confirmation != nil:
				change = fmt.Sprintf("~ %s (%s, not confirmed)", pctChange(l.Ratio), fmtP(l.P))
			case l.BelowFloor:
				change = fmt.Sprintf("~ %s (%s, under the %s floor)", pctChange(l.Ratio), fmtP(l.P), fmtMS(l.MinDeltaMS))
			default:
				change = "~ " + change
			}
		}
		if c.Plan != nil {
			pl = "same"
			if !c.Plan.Same {
				pl = fmt.Sprintf("changed (%d)", len(c.Plan.Changes))
			}
		}
		if c.Profile != nil {
			if m, ok := c.Profile.Metric("cpu"); ok && m.A > 0 {
				res = "CPU " + ratioChange(m.Ratio)
			}
			if m, ok := c.Profile.Metric("peak memory per node"); ok && m.A > 0 {
				res += ", mem " + ratioChange(m.Ratio)
			}
		}
		ew.printf("| %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(c.Case.Name), verdict, result, lat, change, pl, res)
	}
	for _, c := range r.Cases {
		ew.printf("\n<details><summary><b>%s</b>: %s</summary>\n\n", htmlEscape(c.Case.Name), htmlEscape(verdictWord(c)))
		ew.printf("- sources: `%s` → `%s`\n", c.Case.BaselineSource, c.Case.CandidateSource)
		for _, reason := range c.Reasons {
			ew.printf("- **%s**\n", mdEscape(reason))
		}
		if c.Candidate != nil {
			ew.printf("- candidate error: `%s`\n", strings.ReplaceAll(c.Candidate.Message, "`", "'"))
		}
		if c.Result != nil {
			if !c.Result.Differs() { // a difference is already the reason above
				ew.printf("- result: %s\n", mdEscape(resultLine(c)))
			}
			if len(c.Result.Examples) > 0 {
				ew.printf("\n| | baseline | candidate |\n|---|---|---|\n")
				for _, ex := range c.Result.Examples {
					label := ex.Kind
					if ex.Kind == "order" {
						label = fmt.Sprintf("row %d", ex.Position)
					}
					ew.printf("| %s | %s | %s |\n", label, mdRow(ex.Baseline), mdRow(ex.Candidate))
				}
				ew.printf("\n")
			}
		}
		if c.Latency != nil {
			ew.printf("- latency: %s\n", mdEscape(latencyLine(c.Latency)))
		}
		if c.Plan != nil {
			ew.printf("- plan (%s): %s\n", c.Plan.Statement, mdEscape(planLine(c)))
			if c.Plan.Unified != "" {
				ew.printf("\n```diff\n%s```\n", strings.ReplaceAll(c.Plan.Unified, "```", "'''"))
			}
		}
		if c.Profile != nil {
			ew.printf("- profile (medians of %d profiled runs per side; first query ids %s → %s): %s\n", c.Profile.Runs,
				c.Profile.BaselineQueryID, c.Profile.CandidateQueryID, mdEscape(profileLine(c.Profile)))
		}
		for _, n := range c.Notes {
			ew.printf("- note: %s\n", mdEscape(n))
		}
		ew.printf("\n</details>\n")
	}
	return ew.err
}

func shortResult(d *RowDiff) string {
	if !d.Differs() {
		return fmt.Sprintf("same %d rows", d.BaselineRows)
	}
	var parts []string
	if d.ColumnsDiffer {
		parts = append(parts, "columns differ")
	}
	for _, p := range []struct {
		n    int64
		word string
	}{{d.Changed, "changed"}, {d.Missing, "missing"}, {d.Extra, "extra"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.word))
		}
	}
	if d.Ordered && d.OtherOrder {
		parts = append(parts, "other order")
	}
	return strings.Join(parts, ", ")
}

func mdRow(row []*string) string {
	if row == nil {
		return ""
	}
	return "`" + strings.ReplaceAll(rowText(row), "`", "'") + "`"
}

// mdEscape keeps table cells and list items intact: pipes and angle brackets escaped.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\n", " ").Replace(s)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// errWriter keeps the first write error so renderers can print without checking each call.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
