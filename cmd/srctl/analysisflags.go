//go:build !shadowonly

package main

import (
	"github.com/spf13/pflag"

	"github.com/srctl/srctl/analyze"
	"github.com/srctl/srctl/lakehouse/proxylog"
)

// analysisOptions are the flags srctl diff and srctl validate share: the profile records and
// endpoint rules read beside the logs, the grouping and the tests, the report's shape, and how
// the logs are read. Each command embeds it, so its options read o.alpha, o.workers...
type analysisOptions struct {
	profiles       []string
	rulesFile      string
	groupBy        string
	alpha          float64
	threshold      string
	format         string
	reportHTML     string
	color          string
	failOn         string
	endpoint       string
	strict         bool
	top            int
	workers        int
	maxLineBytes   int
	primaryCluster string
	shadowCluster  string
}

// analysisHelp is the help of the shared flags whose meaning each command words its own way.
type analysisHelp struct {
	profiles, groupBy, failOn, endpoint, top string
}

// addFlags declares the shared flags on f.
func (a *analysisOptions) addFlags(f *pflag.FlagSet, h analysisHelp) {
	f.StringSliceVar(&a.profiles, "profiles", nil, h.profiles)
	f.StringVar(&a.rulesFile, "endpoints", "", "YAML endpoint rules for untagged SQL (endpoints: [{name, match}])")
	f.StringVar(&a.groupBy, "group-by", analyze.GroupByEndpoint, h.groupBy)
	f.Float64Var(&a.alpha, "alpha", analyze.DefaultAlpha, "false discovery rate of the tests (0 < alpha < 1)")
	f.StringVar(&a.threshold, "threshold", "10%", "smallest change worth reporting, in percent")
	addReportFlags(f, &a.format, &a.reportHTML)
	f.StringVar(&a.color, "color", "auto", "colour the table: auto (when stdout is a terminal), always or never")
	f.StringVar(&a.failOn, "fail-on", "", h.failOn)
	f.StringVar(&a.endpoint, "endpoint", "", h.endpoint)
	f.BoolVar(&a.strict, "strict", false, "exit 1 when any input line or file was bad (the report is still printed)")
	f.IntVar(&a.top, "top", 0, h.top)
	f.IntVar(&a.workers, "workers", 0, "parser goroutines (0: one per CPU)")
	f.IntVar(&a.maxLineBytes, "max-line-bytes", proxylog.DefaultMaxLineBytes, "longer log lines are skipped and counted")
	f.StringVar(&a.primaryCluster, "primary-cluster", "primary", "the --cluster name the primary's profile records carry")
	f.StringVar(&a.shadowCluster, "shadow-cluster", "shadow", "the --cluster name the shadow's profile records carry")
}
