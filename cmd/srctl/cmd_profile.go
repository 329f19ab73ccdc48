//go:build !shadowonly

package main

import (
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
				return profile.WriteJSON(g.stdout, p)
			}
			return profile.RenderText(g.stdout, p, o.top)
		},
	}
	show.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	show.Flags().IntVar(&o.top, "top", 10, "how many hot operators to list")
	cmd.AddCommand(show, newProfileDiffCmd(g))
	return cmd
}
