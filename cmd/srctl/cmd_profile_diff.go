package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/srctl/srctl/analyze/profile"
)

type profileDiffOptions struct {
	format string
	top    int
}

func newProfileDiffCmd(g *globals) *cobra.Command {
	o := &profileDiffOptions{}
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare two profiles: headline metrics, the operators that moved, operators gained or lost",
		Long: `diff compares profile A (the baseline, e.g. the primary cluster) with profile B (e.g. the
shadow cluster or the candidate SQL). It prints the headline metrics side by side with deltas and
ratios (B/A), then the operators whose time, rows or memory moved most, each with a one-line
reading, then operators that appeared in B or disappeared from A.

Operators are aligned by plan node id and name; when a new plan renumbered the nodes, the rest
are aligned by name and position. A and B are paths, - (standard input, for one of them), or
gs:// / s3:// objects. --format markdown suits a PR comment; json is for scripts.`,
		Example: `  srctl profile diff primary.txt shadow.txt
  srctl profile diff --format markdown baseline.txt candidate.txt >> pr-comment.md`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.format {
			case "table", "json", "markdown":
			default:
				return usageErrorf("--format %q: want table, json or markdown", o.format)
			}
			if args[0] == "-" && args[1] == "-" {
				return usageErrorf("only one of A and B can be - (standard input)")
			}
			var ps [2]*profile.Profile
			for i, name := range args {
				data, err := readDocument(cmd.Context(), name, cmd.InOrStdin(), maxProfileInput)
				if err != nil {
					return err
				}
				ps[i] = profile.Parse(string(data))
				for _, w := range ps[i].Warnings {
					g.logger.Warn("profile line not understood", "profile", name, "line", w.Line, "problem", w.Msg)
				}
			}
			d := profile.Compare(ps[0], ps[1])
			switch o.format {
			case "json":
				return writeDiffJSON(g.stdout, d, o.top)
			case "markdown":
				return renderDiffMarkdown(g.stdout, d, o.top)
			}
			return renderDiffTable(g.stdout, d, o.top)
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "table", "output format: table, json or markdown")
	cmd.Flags().IntVar(&o.top, "top", 10, "how many moved operators to list")
	return cmd
}

func fmtMetric(unit string, v int64) string {
	switch unit {
	case "ns":
		return fmtNS(v)
	case "bytes":
		return fmtBytes(v)
	case "rows":
		return fmtCount(v)
	}
	return fmt.Sprint(v)
}

func fmtDelta(unit string, v int64) string {
	if v > 0 {
		return "+" + fmtMetric(unit, v)
	}
	return fmtMetric(unit, v)
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
func diffRows(d profile.Diff, top int) (metrics, moved, changed [][]string) {
	for _, m := range d.Metrics {
		if m.A == 0 && m.B == 0 {
			continue
		}
		metrics = append(metrics, []string{m.Name, fmtMetric(m.Unit, m.A), fmtMetric(m.Unit, m.B), fmtDelta(m.Unit, m.Delta), fmtRatio(m.Ratio)})
	}
	for _, o := range d.Operators[:min(top, len(d.Operators))] {
		if strings.HasSuffix(o.Reading, "about the same") {
			continue
		}
		moved = append(moved, []string{o.Reading})
	}
	for _, s := range d.Appeared {
		changed = append(changed, []string{"appeared", s.Name, fmt.Sprint(s.PlanNodeID), fmtNS(s.TimeNS)})
	}
	for _, s := range d.Disappeared {
		changed = append(changed, []string{"disappeared", s.Name, fmt.Sprint(s.PlanNodeID), fmtNS(s.TimeNS)})
	}
	return metrics, moved, changed
}

func renderDiffTable(w io.Writer, d profile.Diff, top int) error {
	metrics, moved, changed := diffRows(d, top)
	fmt.Fprintf(w, "A: %s in %s   B: %s in %s\n\nHeadline metrics\n", orDash(d.A.State), fmtNS(d.A.TotalNS), orDash(d.B.State), fmtNS(d.B.TotalNS))
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

func renderDiffMarkdown(w io.Writer, d profile.Diff, top int) error {
	metrics, moved, changed := diffRows(d, top)
	fmt.Fprintf(w, "### Profile diff: A %s in %s, B %s in %s\n\n", orDash(d.A.State), fmtNS(d.A.TotalNS), orDash(d.B.State), fmtNS(d.B.TotalNS))
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

func writeDiffJSON(w io.Writer, d profile.Diff, top int) error {
	type op struct {
		A         profile.OperatorStats `json:"a"`
		B         profile.OperatorStats `json:"b"`
		MatchedBy string                `json:"matched_by"`
		Reading   string                `json:"reading"`
	}
	out := struct {
		A           profile.Headline        `json:"a"`
		B           profile.Headline        `json:"b"`
		Metrics     []jsonMetric            `json:"metrics"`
		Operators   []op                    `json:"operators"`
		Appeared    []profile.OperatorStats `json:"appeared"`
		Disappeared []profile.OperatorStats `json:"disappeared"`
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
