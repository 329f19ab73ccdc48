// Rendering of a plan and of a plan diff: text and Markdown.
package plan

import (
	"fmt"
	"io"
	"strings"
)

// RenderText writes a parsed plan for the terminal: its operators as a tree with their scans.
func RenderText(w io.Writer, p *Plan) error {
	s := p.Structure()
	fmt.Fprintf(w, "Format: %s", p.Format)
	if len(p.Fragments) > 0 {
		fmt.Fprintf(w, ", %d fragments", len(p.Fragments))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "\nScans")
	if len(s.Scans) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, sc := range s.Scans {
		fmt.Fprintf(w, "  %s%s\n", sc.Table, scanDetails(sc))
	}
	if s.JoinTree != "" && len(s.Joins) > 0 {
		fmt.Fprintf(w, "\nJoins: %s\n", s.JoinTree)
		for _, j := range s.Joins {
			line := "  " + j.Op
			if j.Distribution != "" {
				line += " (" + j.Distribution + ")"
			}
			if j.On != "" {
				line += " on " + j.On
			}
			fmt.Fprintf(w, "%s: probe %s, build %s\n", line, orDash(strings.Join(j.Probe, ", ")), orDash(strings.Join(j.Build, ", ")))
		}
	}
	if len(s.Aggregations) > 0 {
		fmt.Fprintln(w, "\nAggregations")
		for _, a := range s.Aggregations {
			fmt.Fprintf(w, "  %s", orDash(a.Phase))
			if a.GroupBy != "" {
				fmt.Fprintf(w, " group by %s", a.GroupBy)
			}
			fmt.Fprintf(w, " over %s\n", orDash(strings.Join(a.Over, ", ")))
		}
	}
	if len(s.Exchanges) > 0 {
		fmt.Fprintln(w, "\nExchanges")
		for _, e := range s.Exchanges {
			fmt.Fprintf(w, "  %s of %s\n", e.Distribution, orDash(strings.Join(e.Over, ", ")))
		}
	}
	fmt.Fprintln(w, "\nNormalised plan")
	for _, l := range strings.Split(strings.TrimRight(p.Normalized(), "\n"), "\n") {
		fmt.Fprintf(w, "  %s\n", l)
	}
	return nil
}

func scanDetails(sc Scan) string {
	var parts []string
	if sc.MV {
		parts = append(parts, "materialized view")
	}
	if sc.Access != "" {
		parts = append(parts, "access "+sc.Access)
	}
	if sc.Rollup != "" && sc.Rollup != sc.Table {
		parts = append(parts, "via "+sc.Rollup)
	}
	if sc.Partitions != "" {
		parts = append(parts, "partitions "+sc.PartsText+" ("+sc.Partitions+")")
	}
	if sc.Predicates != "" {
		parts = append(parts, "where "+sc.Predicates)
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

// RenderDiffText writes a plan diff for the terminal: the structural changes, then the unified
// diff of the normalised plans.
func RenderDiffText(w io.Writer, d Diff) {
	if d.Same {
		fmt.Fprintln(w, "same plan (only ids, statistics or estimates differ)")
		return
	}
	fmt.Fprintf(w, "plan changed: %d structural change(s)\n", len(d.Changes))
	for _, c := range d.Changes {
		fmt.Fprintf(w, "  - [%s] %s\n", c.Kind, c.Text)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, d.Unified)
}

// RenderDiffMarkdown writes a plan diff as Markdown, for a PR.
func RenderDiffMarkdown(w io.Writer, d Diff) {
	if d.Same {
		fmt.Fprintln(w, "### Plan diff: same plan\n\nOnly ids, statistics or estimates differ.")
		return
	}
	fmt.Fprintf(w, "### Plan diff: %d structural change(s)\n\n", len(d.Changes))
	for _, c := range d.Changes {
		fmt.Fprintf(w, "- **%s**: %s\n", c.Kind, c.Text)
	}
	fmt.Fprintf(w, "\n<details><summary>Normalised plan diff</summary>\n\n```diff\n%s```\n\n</details>\n", d.Unified)
}

// orDash shows an empty cell as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
