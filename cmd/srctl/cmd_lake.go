//go:build !shadowonly

package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/srctl/srctl/lakehouse"
)

func newLakeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lake",
		Short: "Load srctl's records into Apache Iceberg tables",
		Long: `lake manages srctl's Apache Iceberg tables, named iceberg://<catalog>/<namespace>.<table>.

The embedded catalog "local" is an Iceberg SQL catalog in SQLite (--lake-dir/catalog.db, pure
Go, no server) with a file:// warehouse (--lake-dir/warehouse): Parquet data files with Iceberg
field ids that Trino, Spark, DuckDB, pyiceberg or StarRocks' Iceberg catalog can read.

Other catalogs: PostgreSQL (--lake-catalog-dsn) or named catalogs of a --lake-config file
(sqlite, postgres or an Iceberg REST catalog); warehouses on file://, gs:// or s3://.

Tables are created on first use: proxy_logs (shadow-proxy log rows, partitioned by day(ts)) and
profiles (srctl collect's records, partitioned by day(start_time)). srctl diff reads both with
iceberg:// inputs and --profiles; srctl collect --sink iceberg://... writes profiles exactly once.`,
	}
	cmd.AddCommand(newLakeImportCmd(g), newLakeCompactCmd(g), newLakeExpireCmd(g))
	return cmd
}

// tableURI reads the one iceberg:// argument of a maintenance command: a proxy_logs or a
// profiles table.
func tableURI(arg string) (lakehouse.TableURI, error) {
	u, err := lakehouse.ParseTableURI(arg)
	if err != nil {
		return u, usageErrorf("%v", err)
	}
	if u.Table != "proxy_logs" && u.Table != "profiles" {
		return u, usageErrorf("%s: the table must be proxy_logs or profiles", u)
	}
	return u, nil
}

func newLakeCompactCmd(g *globals) *cobra.Command {
	var (
		lo           lakeOptions
		since, until string
		target       int64
	)
	cmd := &cobra.Command{
		Use:   "compact iceberg://local/NAMESPACE.TABLE",
		Short: "Rewrite small data files into large ones (one snapshot)",
		Long: `compact rewrites the data files of the day partitions between --since and --until (all when
unset) whose size is under three quarters of --target-file-size into files of about that size,
in one atomic snapshot: readers see the same rows before and after. Flushes every minute make
many small files; run it daily, e.g. on yesterday's partitions. Appends committed meanwhile are
kept (srctl's appends retry after the rewrite).`,
		Example: `  srctl lake compact iceberg://local/srctl.proxy_logs --since 2d --until 1d`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := tableURI(args[0])
			if err != nil {
				return err
			}
			now := time.Now()
			from, err := parseWhen(since, now)
			if err != nil {
				return usageErrorf("--since: %v", err)
			}
			to, err := parseWhen(until, now)
			if err != nil {
				return usageErrorf("--until: %v", err)
			}
			if target < 1<<20 {
				return usageErrorf("--target-file-size %d: want at least 1 MiB", target)
			}
			return runLakeCompact(cmd.Context(), g, &lo, u, from, to, target)
		},
	}
	lo.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&since, "since", "", "first partition time: RFC 3339 or an age (2d)")
	cmd.Flags().StringVar(&until, "until", "", "last partition time: RFC 3339 or an age (1d)")
	cmd.Flags().Int64Var(&target, "target-file-size", 128<<20, "bytes per rewritten file")
	return cmd
}

func newLakeExpireCmd(g *globals) *cobra.Command {
	var (
		lo         lakeOptions
		olderThan  string
		retainLast int
	)
	cmd := &cobra.Command{
		Use:   "expire iceberg://local/NAMESPACE.TABLE --older-than 7d",
		Short: "Expire old snapshots and delete the files only they referenced",
		Long: `expire removes the snapshots older than --older-than (keeping at least --retain-last) and the
data and metadata files that only they referenced, so a table's history and storage stop
growing. Time travel to an expired snapshot is no longer possible.

Imports are idempotent through the batch ids in snapshot summaries: an import repeated after its
snapshots expired adds its rows again. Collector checkpoints survive expiry (they are also table
properties).`,
		Example: `  srctl lake expire iceberg://local/srctl.profiles --older-than 7d --retain-last 100`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := tableURI(args[0])
			if err != nil {
				return err
			}
			now := time.Now()
			cut, err := parseWhen(olderThan, now)
			if err != nil || olderThan == "" {
				return usageErrorf("--older-than %q: want an age such as 7d or 36h", olderThan)
			}
			if retainLast < 1 {
				return usageErrorf("--retain-last %d: want at least 1", retainLast)
			}
			return runLakeExpire(cmd.Context(), g, &lo, u, now.Sub(cut), retainLast)
		},
	}
	lo.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&olderThan, "older-than", "", "expire snapshots older than this age (7d, 36h)")
	cmd.Flags().IntVar(&retainLast, "retain-last", 10, "keep at least this many newest snapshots")
	return cmd
}

func newLakeImportCmd(g *globals) *cobra.Command {
	var (
		lo        lakeOptions
		batchRows int
		strict    bool
	)
	cmd := &cobra.Command{
		Use:   "import SRC_URI... iceberg://local/NAMESPACE.(proxy_logs|profiles)",
		Short: "Load JSONL logs or profile records into an Iceberg table, idempotently",
		Long: `import reads JSONL (.jsonl or .jsonl.gz: local files or directories, file://, gs:// or s3://
prefixes, as srctl diff does) and appends it to a table, one snapshot per batch of --batch-rows
rows: shadow-proxy logs into a table named proxy_logs, profile records (srctl collect's, or the
earlier collector's) into a table named profiles.

Idempotent: a batch's id (srctl.batch-id in its snapshot summary) is a hash of its rows, so
running the same import again adds nothing, and an import interrupted half-way adds only the
batches it had not committed. Commits retry after a conflict with another writer.

Lines that are not records (bad JSON, missing keys) are counted and skipped;
--strict makes them exit 1. Timestamps are kept to the microsecond (Iceberg's precision).`,
		Example: `  srctl lake import ./shadow-logs iceberg://local/srctl.proxy_logs
  srctl lake import gs://lake/starrocks-query-profiles iceberg://local/srctl.profiles
  srctl diff iceberg://local/srctl.proxy_logs --profiles iceberg://local/srctl.profiles --since 6h`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 || !lakehouse.IsTableURI(args[len(args)-1]) {
				return usageErrorf("want SRC_URI... then an iceberg://<catalog>/<namespace>.<table> target")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if batchRows < 1 {
				return usageErrorf("--batch-rows %d: want at least 1", batchRows)
			}
			u, err := lakehouse.ParseTableURI(args[len(args)-1])
			if err != nil {
				return usageErrorf("%v", err)
			}
			if u.Table != "proxy_logs" && u.Table != "profiles" {
				return usageErrorf("%s: the table must be proxy_logs (shadow-proxy logs) or profiles (profile records)", u)
			}
			return runLakeImport(cmd.Context(), g, &lo, args[:len(args)-1], u, batchRows, strict, cmd.InOrStdin())
		},
	}
	lo.addFlags(cmd.Flags())
	cmd.Flags().IntVar(&batchRows, "batch-rows", lakehouse.DefaultImportBatchRows, "rows per committed batch (one snapshot each)")
	cmd.Flags().BoolVar(&strict, "strict", false, "exit 1 when any input line was not a log row (what was valid is still imported)")
	return cmd
}
