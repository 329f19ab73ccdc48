// Rendering of one profile and of a comparison of two: text tables, Markdown and JSON.
package profile

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
)

// WriteJSON writes the parsed profile and its headline metrics as indented JSON.
func WriteJSON(w io.Writer, p *Profile) error {
	out := struct {
		Headline Headline  `json:"headline"`
		Warnings []Warning `json:"warnings"`
		Tree     *Node     `json:"tree"`
	}{p.Headlines(), p.Warnings, p.Root}
	if out.Warnings == nil {
		out.Warnings = []Warning{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// RenderText writes a profile for the terminal: summary, headline metrics and the top
// operators by time (top of them).
func RenderText(w io.Writer, p *Profile, top int) error {
	h := p.Headlines()
	fmt.Fprintf(w, "Query %s  state %s  StarRocks %s  total %s\n", orDash(p.QueryID()), orDash(h.State), orDash(p.Info("StarRocks Version")), FormatNS(h.TotalNS))
	if sql := strings.Join(strings.Fields(p.SQL()), " "); sql != "" {
		fmt.Fprintf(w, "SQL: %s\n", truncateText(sql, 160))
	}
	fmt.Fprintln(w, "\nHeadline metrics")
	t := tablewriter.NewWriter(w)
	t.Header("metric", "value")
	rows := [][]any{
		{"CPU time", FormatNS(h.CPUNS)}, {"execution wall time", FormatNS(h.ExecutionWallNS)}, {"planner time", FormatNS(h.PlannerNS)},
		{"peak memory per node", FormatBytes(h.PeakMemoryPerNodeBytes)}, {"summed memory", FormatBytes(h.SumMemoryBytes)},
		{"scan time", FormatNS(h.ScanNS)}, {"operator time", FormatNS(h.OperatorNS)}, {"network time", FormatNS(h.NetworkNS)},
		{"result deliver time", FormatNS(h.ResultDeliverNS)}, {"spill", FormatBytes(h.SpillBytes)},
		{"scan operators", strconv.Itoa(h.ScanOperators)}, {"scanned", FormatBytes(h.ScanBytes)},
		{"rows read (raw / after predicates)", FormatCount(h.ScanRawRows) + " / " + FormatCount(h.ScanRows)},
		{"scan bytes local / remote", FormatBytes(h.ScanLocalBytes) + " / " + FormatBytes(h.ScanRemoteBytes)},
		{"data cache read / written", FormatBytes(h.DataCacheReadBytes) + " / " + FormatBytes(h.DataCacheWriteBytes)},
	}
	for _, r := range rows {
		t.Append(r...)
	}
	if err := t.Render(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nHot operators (OperatorTotalTime)")
	ops := hotOperators(p, top)
	t = tablewriter.NewWriter(w)
	t.Header("operator", "plan node", "time", "share", "rows")
	for _, op := range ops {
		t.Append(op.Name, strconv.Itoa(op.PlanNodeID), FormatNS(op.TimeNS), fmt.Sprintf("%.1f%%", 100*op.share), FormatCount(op.Rows))
	}
	if err := t.Render(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nOperator tree")
	frag, pipe := -2, -2
	for _, op := range p.OperatorStatsOf() {
		if op.Fragment != frag {
			frag, pipe = op.Fragment, -2
			fmt.Fprintf(w, "Fragment %d\n", frag)
		}
		if op.Pipeline != pipe {
			pipe = op.Pipeline
			fmt.Fprintf(w, "  Pipeline (id=%d)\n", pipe)
		}
		fmt.Fprintf(w, "    %-28s #%-4d %10s  rows %s\n", op.Name, op.PlanNodeID, FormatNS(op.TimeNS), FormatCount(op.Rows))
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintf(w, "\n%d warnings:\n", len(p.Warnings))
		for _, wn := range p.Warnings {
			fmt.Fprintf(w, "  %s\n", wn)
		}
	}
	return nil
}

type hotOp struct {
	OperatorStats
	share float64
}

// hotOperators lists operators by OperatorTotalTime, most first (text order among equals).
func hotOperators(p *Profile, top int) []hotOp {
	var ops []hotOp
	var total int64
	for _, s := range p.OperatorStatsOf() {
		total += s.TimeNS
		ops = append(ops, hotOp{OperatorStats: s})
	}
	for i := range ops {
		if total > 0 {
			ops[i].share = float64(ops[i].TimeNS) / float64(total)
		}
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].TimeNS > ops[j].TimeNS })
	return ops[:min(top, len(ops))]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func fmtDelta(unit string, v int64) string {
	if v > 0 {
		return "+" + FormatMetric(unit, v)
	}
	return FormatMetric(unit, v)
}

func fmtRatio(r float64) string {
	switch {
	case math.IsInf(r, 1):
		return "new"
	case r == 1:
		return "~"
	}
	return fmt.Sprintf("x%.2f", r)
}

// diffRows are the rendered cells shared by the table and markdown outputs.
func diffRows(d Diff, top int) (metrics, moved, changed [][]string) {
	for _, m := range d.Metrics {
		if m.A == 0 && m.B == 0 {
			continue
		}
		metrics = append(metrics, []string{m.Name, FormatMetric(m.Unit, m.A), FormatMetric(m.Unit, m.B), fmtDelta(m.Unit, m.Delta), fmtRatio(m.Ratio)})
	}
	for _, o := range d.Operators[:min(top, len(d.Operators))] {
		if strings.HasSuffix(o.Reading, "about the same") {
			continue
		}
		moved = append(moved, []string{o.Reading})
	}
	for _, s := range d.Appeared {
		changed = append(changed, []string{"appeared", s.Name, fmt.Sprint(s.PlanNodeID), FormatNS(s.TimeNS)})
	}
	for _, s := range d.Disappeared {
		changed = append(changed, []string{"disappeared", s.Name, fmt.Sprint(s.PlanNodeID), FormatNS(s.TimeNS)})
	}
	return metrics, moved, changed
}

// RenderDiffText writes a comparison of two profiles for the terminal: the headline metrics,
// the operators whose time moved most (top of them) and what changed in the plan.
func RenderDiffText(w io.Writer, d Diff, top int) error {
	metrics, moved, changed := diffRows(d, top)
	fmt.Fprintf(w, "A: %s in %s   B: %s in %s\n\nHeadline metrics\n", orDash(d.A.State), FormatNS(d.A.TotalNS), orDash(d.B.State), FormatNS(d.B.TotalNS))
	t := tablewriter.NewWriter(w)
	t.Header("metric", "A", "B", "delta", "B/A")
	for _, r := range metrics {
		t.Append(r)
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nOperators that moved most")
	if len(moved) == 0 {
		fmt.Fprintln(w, "  none moved by 1.5x or more")
	}
	for _, r := range moved {
		fmt.Fprintf(w, "  %s\n", r[0])
	}
	fmt.Fprintln(w, "\nOperators gained or lost")
	if len(changed) == 0 {
		fmt.Fprintln(w, "  none")
		return nil
	}
	t = tablewriter.NewWriter(w)
	t.Header("change", "operator", "plan node", "time")
	for _, r := range changed {
		t.Append(r)
	}
	return t.Render()
}

// RenderDiffMarkdown writes the same comparison as RenderDiffText as Markdown, for a PR.
func RenderDiffMarkdown(w io.Writer, d Diff, top int) error {
	metrics, moved, changed := diffRows(d, top)
	fmt.Fprintf(w, "### Profile diff: A %s in %s, B %s in %s\n\n", orDash(d.A.State), FormatNS(d.A.TotalNS), orDash(d.B.State), FormatNS(d.B.TotalNS))
	fmt.Fprintln(w, "| metric | A | B | delta | B/A |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	for _, r := range metrics {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Fprintln(w, "\n**Operators that moved most**")
	fmt.Fprintln(w)
	if len(moved) == 0 {
		fmt.Fprintln(w, "- none moved by 1.5x or more")
	}
	for _, r := range moved {
		fmt.Fprintf(w, "- %s\n", r[0])
	}
	fmt.Fprintln(w, "\n**Operators gained or lost**")
	fmt.Fprintln(w)
	if len(changed) == 0 {
		fmt.Fprintln(w, "- none")
	}
	for _, r := range changed {
		fmt.Fprintf(w, "- %s: %s (plan node %s, %s)\n", r[0], r[1], r[2], r[3])
	}
	return nil
}

// WriteDiffJSON writes the comparison as JSON (top operators of each list).
func WriteDiffJSON(w io.Writer, d Diff, top int) error {
	type op struct {
		A         OperatorStats `json:"a"`
		B         OperatorStats `json:"b"`
		MatchedBy string        `json:"matched_by"`
		Reading   string        `json:"reading"`
	}
	out := struct {
		A           Headline        `json:"a"`
		B           Headline        `json:"b"`
		Metrics     []jsonMetric    `json:"metrics"`
		Operators   []op            `json:"operators"`
		Appeared    []OperatorStats `json:"appeared"`
		Disappeared []OperatorStats `json:"disappeared"`
	}{A: d.A, B: d.B, Appeared: d.Appeared, Disappeared: d.Disappeared}
	for _, m := range d.Metrics {
		jm := jsonMetric{Name: m.Name, Unit: m.Unit, A: m.A, B: m.B, Delta: m.Delta}
		if !math.IsInf(m.Ratio, 0) {
			r := m.Ratio
			jm.Ratio = &r // JSON has no infinity: a metric new in B has no ratio
		}
		out.Metrics = append(out.Metrics, jm)
	}
	for _, o := range d.Operators[:min(top, len(d.Operators))] {
		out.Operators = append(out.Operators, op{o.A, o.B, o.MatchedBy, o.Reading})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type jsonMetric struct {
	Name  string   `json:"name"`
	Unit  string   `json:"unit"`
	A     int64    `json:"a"`
	B     int64    `json:"b"`
	Delta int64    `json:"delta"`
	Ratio *float64 `json:"ratio"`
}
