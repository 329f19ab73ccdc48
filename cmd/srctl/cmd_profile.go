package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/srctl/srctl/analyze/profile"
)

// maxProfileInput bounds a profile read from a file, stdin or an object.
const maxProfileInput = 256 << 20

type profileShowOptions struct {
	format string
	top    int
}

func newProfileCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Read StarRocks query profiles",
	}
	o := &profileShowOptions{}
	show := &cobra.Command{
		Use:   "show FILE",
		Short: "Show a profile's headline metrics, hot operators and operator tree",
		Long: `show parses a StarRocks query profile (the text of /api/profile, get_query_profile() or the
web UI) and prints its headline metrics, the operators that took the most OperatorTotalTime with
their plan node ids, and the fragment / pipeline / operator tree.

FILE is a path, - for standard input, or a gs:// or s3:// object. --format json prints the whole
parsed tree with typed values (durations in ns, sizes in bytes) and the headline metrics.
Lines the parser could not read are listed as warnings; they never stop it.`,
		Example: `  srctl profile show q.txt
  curl -s -u root: 'http://fe:8030/api/profile?query_id=...' | srctl profile show -
  srctl profile show --format json q.txt | jq .headline`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.format != "text" && o.format != "json" {
				return usageErrorf("--format %q: want text or json", o.format)
			}
			data, err := readDocument(cmd.Context(), args[0], cmd.InOrStdin(), maxProfileInput)
			if err != nil {
				return err
			}
			p := profile.Parse(string(data))
			if o.format == "json" {
				return writeProfileJSON(g.stdout, p)
			}
			return renderProfile(g.stdout, p, o.top)
		},
	}
	show.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	show.Flags().IntVar(&o.top, "top", 10, "how many hot operators to list")
	cmd.AddCommand(show, newProfileDiffCmd(g))
	return cmd
}

func writeProfileJSON(w io.Writer, p *profile.Profile) error {
	out := struct {
		Headline profile.Headline  `json:"headline"`
		Warnings []profile.Warning `json:"warnings"`
		Tree     *profile.Node     `json:"tree"`
	}{p.Headlines(), p.Warnings, p.Root}
	if out.Warnings == nil {
		out.Warnings = []profile.Warning{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func renderProfile(w io.Writer, p *profile.Profile, top int) error {
	h := p.Headlines()
	fmt.Fprintf(w, "Query %s  state %s  StarRocks %s  total %s\n", orDash(p.QueryID()), orDash(h.State), orDash(p.Info("StarRocks Version")), fmtNS(h.TotalNS))
	if sql := strings.Join(strings.Fields(p.SQL()), " "); sql != "" {
		fmt.Fprintf(w, "SQL: %s\n", truncateText(sql, 160))
	}
	fmt.Fprintln(w, "\nHeadline metrics")
	t := tablewriter.NewWriter(w)
	t.Header("metric", "value")
	rows := [][]any{
		{"CPU time", fmtNS(h.CPUNS)}, {"execution wall time", fmtNS(h.ExecutionWallNS)}, {"planner time", fmtNS(h.PlannerNS)},
		{"peak memory per node", fmtBytes(h.PeakMemoryPerNodeBytes)}, {"summed memory", fmtBytes(h.SumMemoryBytes)},
		{"scan time", fmtNS(h.ScanNS)}, {"operator time", fmtNS(h.OperatorNS)}, {"network time", fmtNS(h.NetworkNS)},
		{"result deliver time", fmtNS(h.ResultDeliverNS)}, {"spill", fmtBytes(h.SpillBytes)},
		{"scan operators", strconv.Itoa(h.ScanOperators)}, {"scanned", fmtBytes(h.ScanBytes)},
		{"rows read (raw / after predicates)", fmtCount(h.ScanRawRows) + " / " + fmtCount(h.ScanRows)},
		{"scan bytes local / remote", fmtBytes(h.ScanLocalBytes) + " / " + fmtBytes(h.ScanRemoteBytes)},
		{"data cache read / written", fmtBytes(h.DataCacheReadBytes) + " / " + fmtBytes(h.DataCacheWriteBytes)},
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
		t.Append(op.Name, strconv.Itoa(op.PlanNodeID), fmtNS(op.TimeNS), fmt.Sprintf("%.1f%%", 100*op.share), fmtCount(op.Rows))
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
		fmt.Fprintf(w, "    %-28s #%-4d %10s  rows %s\n", op.Name, op.PlanNodeID, fmtNS(op.TimeNS), fmtCount(op.Rows))
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
	profile.OperatorStats
	share float64
}

// hotOperators lists operators by OperatorTotalTime, most first (text order among equals).
func hotOperators(p *profile.Profile, top int) []hotOp {
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

var (
	fmtNS    = profile.FormatNS
	fmtBytes = profile.FormatBytes
	fmtCount = profile.FormatCount
)
