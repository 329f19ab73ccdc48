//go:build !shadowonly

package main

import (
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
				return profile.WriteDiffJSON(g.stdout, d, o.top)
			case "markdown":
				return profile.RenderDiffMarkdown(g.stdout, d, o.top)
			}
			return profile.RenderDiffText(g.stdout, d, o.top)
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "table", "output format: table, json or markdown")
	cmd.Flags().IntVar(&o.top, "top", 10, "how many moved operators to list")
	return cmd
}
