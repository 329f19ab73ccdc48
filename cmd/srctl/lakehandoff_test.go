//go:build !shadowonly

package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// parsedCommand finds the command argv names and parses its flags as srctl would, the
// environment applied, without running it.
func parsedCommand(t *testing.T, argv ...string) (*cobra.Command, []string) {
	t.Helper()
	root := newRootCmd(io.Discard, io.Discard)
	root.InitDefaultHelpCmd() // Execute adds it
	cmd, rest, err := root.Find(argv)
	if err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	if err := applyEnv(cmd); err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	return cmd, cmd.Flags().Args()
}

// TestNeedsLake: which invocations the split build hands to srctl-lake.
func TestNeedsLake(t *testing.T) {
	table := "iceberg://local/srctl.proxy_logs"
	for _, tc := range []struct {
		env  map[string]string
		argv []string
		want bool
	}{
		{nil, []string{"diff", "./shadow-logs"}, false},
		{nil, []string{"diff", "gs://lake/shadow-logs", "--profiles", "s3://lake/profiles"}, false},
		{nil, []string{"diff", table}, true},
		{nil, []string{"diff", "./shadow-logs", "--profiles", "iceberg://local/srctl.profiles"}, true},
		{nil, []string{"validate", "./logs", "--before", "2026-03-05T10:00:00Z/2026-03-05T11:00:00Z", "--after", "2026-03-05T12:00:00Z/2026-03-05T13:00:00Z"}, false},
		{nil, []string{"validate", table, "--before", "2026-03-05T10:00:00Z/2026-03-05T11:00:00Z", "--after", "2026-03-05T12:00:00Z/2026-03-05T13:00:00Z"}, true},
		{nil, []string{"collect", "--cluster", "c", "--fe-hosts", "fe:8030"}, false},
		{nil, []string{"collect", "--cluster", "c", "--fe-hosts", "fe:8030", "--sink=iceberg://local/srctl.profiles"}, true},
		{map[string]string{"SRCTL_SINK": "iceberg://local/srctl.profiles"}, []string{"collect", "--cluster", "c", "--fe-hosts", "fe:8030"}, true},
		{nil, []string{"shadow", "--primary", "a:3306", "--shadow", "b:3306", "--log-sink", table}, true},
		{map[string]string{"SRCTL_LOG_SINK": table}, []string{"shadow", "--primary", "a:3306", "--shadow", "b:3306"}, true},
		{nil, []string{"shadow", "--primary", "a:3306", "--shadow", "b:3306", "--log-sink", "./logs"}, false},
		{nil, []string{"lake", "import", "./logs", table}, true},
		{nil, []string{"lake", "compact", table}, true},
		{nil, []string{"lake", "expire", table, "--older-than", "7d"}, true},
		{nil, []string{"version"}, false},
		{nil, []string{"help", "lake", "import"}, false}, // help is printed by either build
		{nil, []string{"profile", "show", "p.txt"}, false},
	} {
		t.Run(strings.Join(tc.argv, " "), func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cmd, args := parsedCommand(t, tc.argv...)
			if got := needsLake(cmd, args); got != tc.want {
				t.Errorf("needsLake = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestNeedsLakeSeesEveryFlag: any flag of any command that takes text, set to a table URI,
// hands the invocation to srctl-lake, so a flag added later cannot read a table in the split
// build (which would fail there with errNotHandedOff).
func TestNeedsLakeSeesEveryFlag(t *testing.T) {
	const table = "iceberg://local/srctl.proxy_logs"
	var walk func(c *cobra.Command)
	checked := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() {
			return
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			switch f.Value.Type() {
			case "string", "stringArray", "stringSlice":
			default:
				return
			}
			cmd, args := parsedCommand(t, append(strings.Fields(c.CommandPath())[1:], "--"+f.Name+"="+table)...)
			checked++
			if !needsLake(cmd, args) {
				t.Errorf("%s --%s=%s is not handed to srctl-lake", c.CommandPath(), f.Name, table)
			}
		})
	}
	walk(newRootCmd(io.Discard, io.Discard))
	if checked < 50 {
		t.Fatalf("only %d text flags checked: the walk is broken", checked)
	}
}

// TestWarnVersionSkew: srctl-lake warns when the split srctl that handed it the command is of
// another version, and says nothing when they match or when nobody handed it anything.
func TestWarnVersionSkew(t *testing.T) {
	for _, tc := range []struct {
		from, theirs string
		warn         bool
	}{
		{"", "", false},
		{"/usr/local/bin/srctl", versionString(), false},
		{"/usr/local/bin/srctl", "v0.0.1-older", true},
	} {
		t.Setenv(lakeHandoffEnv, tc.from)
		t.Setenv(lakeHandoffVersionEnv, tc.theirs)
		var buf bytes.Buffer
		warnVersionSkew(slog.New(slog.NewTextHandler(&buf, nil)))
		if got := strings.Contains(buf.String(), "another version"); got != tc.warn ||
			(tc.warn && !strings.Contains(buf.String(), "v0.0.1-older")) {
			t.Errorf("from %q version %q: warned %v, want %v: %s", tc.from, tc.theirs, got, tc.warn, buf.String())
		}
	}
}
