//go:build !shadowonly

package main

import (
	"log/slog"
	"os"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/srctl/srctl/lakehouse"
)

// The split build (go build -tags splitlake; make build's bin/srctl and the image's /srctl) has
// every command and flag but links no Iceberg code: iceberg-go's package initialisation alone
// costs every command ~0.1 s and ~30 MB before it does anything (README: "One binary or two").
// An invocation that reads or writes an Iceberg table is handed, before it does anything, to
// srctl-lake: the standard build of the same source, found next to srctl or on PATH.

// lakeBinaryName is the standard build's name beside a split srctl.
const lakeBinaryName = "srctl-lake"

// The split srctl sets these in the environment of the srctl-lake it runs: its own path (a split
// build that finds it set and still lacks the lake was handed to another split build, and says so
// instead of handing on forever) and its version (srctl-lake warns when its own differs).
const (
	lakeHandoffEnv        = "SRCTL_LAKE_HANDOFF_FROM"
	lakeHandoffVersionEnv = "SRCTL_LAKE_HANDOFF_VERSION"
)

// warnVersionSkew warns when this process was handed an invocation by a split srctl of another
// version: the command then runs this binary's code, not that of the srctl the user ran (one of
// the two was upgraded without the other).
func warnVersionSkew(lg *slog.Logger) {
	from, theirs := os.Getenv(lakeHandoffEnv), os.Getenv(lakeHandoffVersionEnv)
	if from == "" || theirs == "" || theirs == versionString() {
		return
	}
	lg.Warn("srctl handed this command to "+lakeBinaryName+" of another version: install both from one build",
		"srctl", from, "srctl_version", theirs, "srctl_lake_version", versionString())
}

// needsLake says whether an invocation, its flags parsed and the environment applied, reads or
// writes an Iceberg table: a srctl lake command, or any argument or flag value that is an
// iceberg:// URI (diff's and validate's inputs and --profiles, collect's --sink, shadow's
// --log-sink, ...). It looks at every flag, not a list of the ones that take tables, so a flag
// added later cannot miss the hand-off; a value that merely starts with iceberg:// costs one
// exec, never a wrong result.
func needsLake(cmd *cobra.Command, args []string) bool {
	for c := cmd; c.HasParent(); c = c.Parent() {
		if c.Name() == "lake" && !c.Parent().HasParent() {
			return true
		}
	}
	if slices.ContainsFunc(args, lakehouse.IsTableURI) {
		return true
	}
	found := false
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			found = found || slices.ContainsFunc(sv.GetSlice(), lakehouse.IsTableURI)
			return
		}
		found = found || lakehouse.IsTableURI(f.Value.String())
	})
	return found
}
