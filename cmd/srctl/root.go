package main

import (
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// globals are the root command's persistent settings.
type globals struct {
	logLevel  string
	logFormat string
	stdout    io.Writer
	stderr    io.Writer
	logger    *slog.Logger
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "srctl",
		Short:         "Upgrade, reconfigure or rewrite SQL for StarRocks without hurting customers",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd); err != nil {
				return err
			}
			if err := lakeHandoff(cmd, args); err != nil {
				return err
			}
			lg, err := newLogger(g.logLevel, g.logFormat, stderr)
			if err != nil {
				return err
			}
			g.logger = lg
			warnVersionSkew(lg)
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v (see '%s --help')", err, c.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format: text or json (one object per line, for log pipelines)")

	root.AddCommand(subcommands(g)...)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		documentEnv(c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return root
}

// envHelp ends the root command's help in every build.
const envHelp = `Every flag can also be set with an environment variable SRCTL_<FLAG> (dashes become
underscores, e.g. SRCTL_POLL_INTERVAL=2s); flags given on the command line win.`

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErrorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageErrorf("--log-format %q: want text or json", format)
}

// envName is the variable that sets a flag: SRCTL_ plus the flag name in upper case.
func envName(flag string) string {
	return "SRCTL_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// legacyEnv lists, per flag, the variables of the pre-srctl collector that still set it, so a
// deployment can switch images without edits. SRCTL_<FLAG> wins over them.
var legacyEnv = map[string][]string{
	"cluster":             {"CLUSTER_NAME"},
	"fe-hosts":            {"FE_HOSTS"},
	"fe-headless-service": {"FE_HEADLESS_SERVICE"},
	"fe-http-port":        {"FE_HTTP_PORT"},
	"fe-user":             {"FE_USER"},
	"poll-interval":       {"POLL_INTERVAL"},
	"flush-interval":      {"FLUSH_INTERVAL"},
	"batch-size":          {"BATCH_SIZE"},
	"dedup-ttl":           {"DEDUP_TTL"},
	"state-dir":           {"CHECKPOINT_DIR"},
}

// documentEnv appends the environment variables to every flag's help.
func documentEnv(cmd *cobra.Command) {
	annotate := func(f *pflag.Flag) {
		if f.Name == "help" || strings.Contains(f.Usage, "(env ") {
			return
		}
		names := append([]string{envName(f.Name)}, legacyEnv[f.Name]...)
		f.Usage += " (env " + strings.Join(names, ", ") + ")"
	}
	cmd.LocalFlags().VisitAll(annotate)
	cmd.PersistentFlags().VisitAll(annotate)
}

// applyEnv sets every flag not given on the command line from its environment variable.
func applyEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		for _, name := range append([]string{envName(f.Name)}, legacyEnv[f.Name]...) {
			v, ok := os.LookupEnv(name)
			if !ok || v == "" {
				continue
			}
			if f.Value.Type() == "duration" && isDigits(v) {
				v += "s" // the old collector took durations as whole seconds
			}
			if serr := f.Value.Set(v); serr != nil {
				err = usageErrorf("environment variable %s=%q for --%s: %v", name, v, f.Name, serr)
				return
			}
			f.Changed = true
			return
		}
	})
	return err
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
