//go:build !shadowonly

package main

import (
	"encoding/json"
	"errors"

	"github.com/spf13/cobra"

	"github.com/srctl/srctl/analyze/plan"
)

// maxPlanInput bounds an EXPLAIN read from a file, stdin or an object.
const maxPlanInput = 64 << 20

// errPlanChanged is returned by plan diff --fail-on-change; main turns it into exit code 1.
var errPlanChanged = errors.New("the plan changed")

func newPlanCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Read and compare EXPLAIN output (StarRocks, MySQL, MariaDB)",
	}
	cmd.AddCommand(newPlanShowCmd(g), newPlanDiffCmd(g))
	return cmd
}

// readPlan reads and parses one EXPLAIN, logging the lines the parser could not place.
func readPlan(cmd *cobra.Command, g *globals, name string) (*plan.Plan, error) {
	data, err := readDocument(cmd.Context(), name, cmd.InOrStdin(), maxPlanInput)
	if err != nil {
		return nil, err
	}
	p := plan.Parse(string(data))
	for _, w := range p.Warnings {
		g.logger.Warn("EXPLAIN line not understood", "plan", name, "line", w.Line, "problem", w.Msg)
	}
	if p.Root == nil {
		return nil, usageErrorf("%s: no plan found (want the output of EXPLAIN, EXPLAIN COSTS, EXPLAIN VERBOSE, EXPLAIN LOGICAL or MySQL EXPLAIN FORMAT=JSON)", name)
	}
	return p, nil
}

func newPlanShowCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show FILE",
		Short: "Show a plan's structure and its normalised form",
		Long: `show parses EXPLAIN output and prints what plan diff compares: the tables scanned (with
predicates, partition pruning, rollup or index), the join tree and how each join distributes its
data, aggregations and exchanges, then the normalised plan (ids, tablet lists, cardinalities,
costs and statistics removed).

It reads StarRocks EXPLAIN, EXPLAIN COSTS, EXPLAIN VERBOSE and EXPLAIN LOGICAL as the server
returns them (one row per line), also inside the mysql client's boxed or tab-separated output,
and MySQL/MariaDB EXPLAIN FORMAT=JSON. FILE is a path, - for standard input, or a gs:// or s3://
object. --format json prints the parsed tree and the structure.`,
		Example: `  mysql -h fe -P 9030 -uroot -N -r -e 'EXPLAIN COSTS SELECT ...' | srctl plan show -
  srctl plan show --format json plan.txt | jq .structure.join_tree`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usageErrorf("--format %q: want text or json", format)
			}
			p, err := readPlan(cmd, g, args[0])
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Plan      *plan.Plan     `json:"plan"`
					Structure plan.Structure `json:"structure"`
					Normal    string         `json:"normalized"`
				}{p, p.Structure(), p.Normalized()})
			}
			return plan.RenderText(g.stdout, p)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func newPlanDiffCmd(g *globals) *cobra.Command {
	var (
		format       string
		failOnChange bool
		contextLines int
	)
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Say what changed structurally between two plans, then diff them",
		Long: `diff compares plan A (the baseline) with plan B (the candidate, or the shadow cluster's). It
normalises both (node and slot ids, fragment numbers, tablet lists, cardinalities, costs and
column statistics removed; partition ratios reduced to all / pruned / none), so two plans that
differ only in numbers are reported as "same plan".

Otherwise it says in words what changed: tables read or no longer read (materialized view
rewrites), join order, join distribution (broadcast vs shuffle vs colocate), join type, a scan
that lost or gained its predicate or partition pruning, index or rollup changes, aggregations
added, removed or moved, exchanges added or removed, other operators gained or lost; then a
unified diff of the normalised plans.

Compare plans of the same EXPLAIN level: since 3.3.5 / 3.2.12 plain EXPLAIN prints what EXPLAIN
COSTS does, so ask for the level explicitly. A and B are paths, - (for one of them), or gs:// /
s3:// objects. With --fail-on-change the exit code is 1 when the plan changed, for CI.`,
		Example: `  srctl plan diff before.txt after.txt
  srctl plan diff --format markdown --fail-on-change baseline.txt candidate.txt >> pr-comment.md`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "text", "json", "markdown":
			default:
				return usageErrorf("--format %q: want text, json or markdown", format)
			}
			if contextLines < 0 {
				return usageErrorf("--context %d: want 0 or more lines", contextLines)
			}
			if args[0] == "-" && args[1] == "-" {
				return usageErrorf("only one of A and B can be - (standard input)")
			}
			a, err := readPlan(cmd, g, args[0])
			if err != nil {
				return err
			}
			b, err := readPlan(cmd, g, args[1])
			if err != nil {
				return err
			}
			if a.Format != b.Format {
				g.logger.Warn("comparing plans of different EXPLAIN formats: expect differences that are only the format", "a", a.Format, "b", b.Format)
			}
			d := plan.CompareNamed(a, b, args[0], args[1], contextLines)
			switch format {
			case "json":
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(d); err != nil {
					return err
				}
			case "markdown":
				plan.RenderDiffMarkdown(g.stdout, d)
			default:
				plan.RenderDiffText(g.stdout, d)
			}
			if failOnChange && !d.Same {
				return errPlanChanged
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or markdown")
	cmd.Flags().BoolVar(&failOnChange, "fail-on-change", false, "exit with code 1 when the plan changed")
	cmd.Flags().IntVar(&contextLines, "context", 3, "lines of context around each change in the unified diff")
	return cmd
}
