//go:build !shadowonly

package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/srctl/srctl/harness"
	"github.com/srctl/srctl/internal/redact"
)

type captureOptions struct {
	endpoint              string
	primaryDSN, shadowDSN string
	out                   string
	tarball               bool
	noRows                bool
	snapshotRows          int
	perEndpoint           int
	rulesFile             string
	since, until          string
	timeout               time.Duration
	session               []string
	rate                  float64
	allowWrites           bool
	workers               int
	records               bool
	primaryCluster        string
	lake                  lakeOptions
}

func newCaptureCmd(g *globals) *cobra.Command {
	o := &captureOptions{}
	cmd := &cobra.Command{
		Use:   "capture --endpoint NAME --primary-dsn DSN [--shadow-dsn DSN] --out DIR [flags] LOGS...",
		Short: "Write the full context of one endpoint (SQL with real parameters, plans, tables, variables, results, profiles) for whoever fixes it",
		Long: `capture hands the person (or the agent) who fixes a regressed endpoint its full context, in a
directory (--out; --tar also writes DIR.tar.gz):

  summary.md        read first: what differs between the two servers (table definitions, session
                    variables, plans, profile hot spots, the result), then each server's tables
  context.json      the same for tools
  queries.sql       the endpoint's distinct SQL texts from the logs (real parameter sets, up to
                    --per-endpoint, spread over the logged latency), with their logged latencies;
                    "the typical one" (median) and "the slow one" are marked
  SERVER/tables/*.sql         SHOW CREATE TABLE of every table the queries read (partitions,
                              buckets, keys, indexes), sizes in context.json
  SERVER/explain-*.txt        EXPLAIN of the typical and the slow query (StarRocks: COSTS and
                              VERBOSE; MySQL/MariaDB: FORMAT=JSON)
  SERVER/session-variables.txt  the session's variables (values that look like credentials redacted)
  SERVER/profile-*.txt        StarRocks: profiles of the typical and the slow query
  and in context.json a result snapshot of the typical query (row count, hash, first
  --snapshot-rows rows; --no-rows leaves the rows out for sensitive data).

SERVER is primary, and shadow when --shadow-dsn is given. capture runs only reads (the guard of
compare-baseline) unless --allow-writes; queries that are not reads are left out. The DSNs are never
written anywhere.`,
		Example: `  srctl capture --endpoint /api/v1/orders/:id --primary-dsn "$PRIMARY" --shadow-dsn "$SHADOW" \
    --out ./orders-context --tar --since 6h gs://my-bucket/shadow-logs/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCapture(cmd.Context(), g, o, args, cmd.InOrStdin())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.endpoint, "endpoint", "", "the endpoint to capture (as srctl diff names it, fp:<id> included)")
	f.StringVar(&o.primaryDSN, "primary-dsn", "", "the primary (or only) server: user:pass@tcp(host:port)/db or mysql://...")
	f.StringVar(&o.shadowDSN, "shadow-dsn", "", "the shadow server, to compare with (optional)")
	f.StringVar(&o.out, "out", "", "directory to write the bundle to (created; files in it are replaced)")
	f.BoolVar(&o.tarball, "tar", false, "also write DIR.tar.gz")
	f.BoolVar(&o.noRows, "no-rows", false, "no result rows in the bundle (only row counts and hashes)")
	f.IntVar(&o.snapshotRows, "snapshot-rows", 20, "result rows of the typical query kept in the bundle")
	f.IntVar(&o.perEndpoint, "per-endpoint", 10, "distinct SQL texts taken from the logs")
	f.StringVar(&o.rulesFile, "endpoints", "", "YAML endpoint rules for untagged SQL (endpoints: [{name, match}])")
	f.StringVar(&o.since, "since", "", "only logged queries at or after this time: RFC 3339 or an age (6h)")
	f.StringVar(&o.until, "until", "", "only logged queries at or before this time")
	f.DurationVar(&o.timeout, "timeout", time.Minute, "per statement; killed with KILL QUERY after it (0: none)")
	f.StringArrayVar(&o.session, "session", nil, "session variable name=value set on every connection (repeatable)")
	f.Float64Var(&o.rate, "rate", 0, "at most this many statements per second (0: no cap)")
	f.BoolVar(&o.allowWrites, "allow-writes", false, "also capture statements that are not certainly reads")
	f.IntVar(&o.workers, "workers", 0, "log parser goroutines (0: one per CPU)")
	addRecordFlags(f, &o.records, &o.primaryCluster)
	o.lake.addFlags(f)
	return cmd
}

func runCapture(ctx context.Context, g *globals, o *captureOptions, args []string, stdin io.Reader) error {
	switch {
	case o.endpoint == "":
		return usageErrorf("name the endpoint to capture: --endpoint NAME")
	case o.primaryDSN == "":
		return usageErrorf("name the server: --primary-dsn (and --shadow-dsn to compare with a second one)")
	case o.out == "":
		return usageErrorf("name the bundle's directory: --out DIR")
	case len(args) == 0:
		return usageErrorf("name the logs to take the endpoint's queries from")
	case o.perEndpoint < 1 || o.snapshotRows < 0 || o.rate < 0 || o.timeout < 0:
		return usageErrorf("--per-endpoint must be at least 1; --snapshot-rows, --rate and --timeout not negative")
	}
	for _, kv := range o.session {
		if _, err := harness.SetStatement(kv); err != nil {
			return usageErrorf("%v", err)
		}
	}
	sel := harness.Selection{Endpoints: []string{o.endpoint}, PerEndpoint: o.perEndpoint, Workers: o.workers}
	var err error
	now := time.Now()
	if sel.Window.Since, err = parseWhen(o.since, now); err != nil {
		return usageErrorf("--since: %v", err)
	}
	if sel.Window.Until, err = parseWhen(o.until, now); err != nil {
		return usageErrorf("--until: %v", err)
	}
	if o.rulesFile != "" {
		if sel.Rules, err = readRules(o.rulesFile); err != nil {
			return err
		}
	}
	dsns := []string{o.primaryDSN}
	if o.shadowDSN != "" {
		dsns = append(dsns, o.shadowDSN)
	}
	var secrets []string
	for _, d := range dsns {
		secrets = append(secrets, redact.Secrets(d)...)
	}
	sel.Cluster = o.primaryCluster
	queries, st, err := selectQueries(ctx, &o.lake, args, sel, o.records, stdin)
	if err != nil {
		return err
	}
	var reads []harness.ReplayQuery
	for _, q := range queries {
		if o.allowWrites || harness.CheckReadOnly(q.SQL) == nil {
			reads = append(reads, q)
		}
	}
	if len(reads) == 0 {
		return usageErrorf("no successful read of endpoint %q in %d rows of the logs (%d writes left out; --allow-writes captures them)", o.endpoint, st.Rows, len(queries))
	}
	cfg := harness.DefaultReplayConfig()
	cfg.Timeout, cfg.Session, cfg.Rate, cfg.AllowWrites, cfg.ProfileRuns = o.timeout, o.session, o.rate, o.allowWrites, 1
	var dbs []*sql.DB
	for i, d := range dsns {
		mcfg, err := harness.ParseDSN(d)
		if err != nil {
			return usageErrorf("%s: %v", []string{"--primary-dsn", "--shadow-dsn"}[i], redact.Error(err, secrets...))
		}
		db, err := openDB(mcfg)
		if err != nil {
			return err
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	var shadowDB *sql.DB
	if len(dbs) == 2 {
		shadowDB = dbs[1]
	}
	rp, err := harness.NewReplayer(ctx, dbs[0], shadowDB, cfg)
	if err != nil {
		return fmt.Errorf("%w", redact.Error(err, secrets...))
	}
	defer rp.Close()
	c, err := rp.Capture(ctx, reads, harness.CaptureOptions{Endpoint: o.endpoint, NoRows: o.noRows, SnapshotRows: o.snapshotRows})
	if err != nil {
		return fmt.Errorf("capture: %w", redact.Error(err, secrets...))
	}
	if err := c.WriteBundle(o.out); err != nil {
		return fmt.Errorf("writing %s: %w", o.out, err)
	}
	files := 0
	filepath.WalkDir(o.out, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	fmt.Fprintf(g.stdout, "wrote the context of %s to %s (%d files; read %s first)\n", o.endpoint, o.out, files, filepath.Join(o.out, "summary.md"))
	if o.tarball {
		name := filepath.Clean(o.out) + ".tar.gz"
		if err := writeTarGz(o.out, name); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		fmt.Fprintf(g.stdout, "and %s\n", name)
	}
	return nil
}

// writeTarGz archives dir's files under its base name.
func writeTarGz(dir, name string) (err error) {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	base := filepath.Base(filepath.Clean(dir))
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(filepath.Join(base, rel)), Mode: 0o644, Size: int64(len(data)), ModTime: time.Now()}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}
