//go:build !shadowonly && !splitlake

// The Iceberg half of srctl, linked into the standard build (go build ./cmd/srctl) and into
// srctl-lake. The split build (-tags splitlake, lake_split.go) has the same commands and flags
// without this code, and hands an invocation that needs it to srctl-lake.
package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/srctl/srctl/collector"
	"github.com/srctl/srctl/internal/redact"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/icelake"
	"github.com/srctl/srctl/lakehouse/source"
	"github.com/srctl/srctl/shadowproxy"
)

// buildNote ends the platform in srctl version's output: nothing for the standard build.
const buildNote = ""

// lakeHandoff has nothing to hand off: this build reads and writes Iceberg tables itself.
func lakeHandoff(*cobra.Command, []string) error { return nil }

// ioProps parses --lake-io.
func (o *lakeOptions) ioProps() (map[string]string, error) {
	props := map[string]string{}
	for _, kv := range o.io {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--lake-io %q: want key=value", kv)
		}
		props[k] = v
	}
	return props, nil
}

// open opens the catalog a URI names: the embedded "local" one under --lake-dir, or with
// --lake-catalog-dsn a catalog of that name in PostgreSQL.
func (o *lakeOptions) open(ctx context.Context, u lakehouse.TableURI) (*icelake.Lake, error) {
	if o.config != "" {
		fc, err := icelake.LoadFileConfig(o.config)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		cfg, ok := fc.Config(u.Catalog)
		if !ok {
			return nil, usageErrorf("%s: no catalog %q in --lake-config %s", u, u.Catalog, o.config)
		}
		l, err := icelake.Open(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("catalog %s of --lake-config %s: %w", u.Catalog, o.config, redact.Error(err, cfg.Secrets()...))
		}
		return l, nil
	}
	props, err := o.ioProps()
	if err != nil {
		return nil, err
	}
	if o.catalogDSN != "" {
		l, err := icelake.Open(ctx, icelake.Config{Name: u.Catalog, PostgresDSN: o.catalogDSN, Warehouse: o.warehouse, IOProps: props})
		if err != nil {
			return nil, fmt.Errorf("catalog %s in --lake-catalog-dsn %s: %w", u.Catalog, redact.DSN(o.catalogDSN), redact.Error(err, redact.Secrets(o.catalogDSN)...))
		}
		return l, nil
	}
	if u.Catalog != "local" {
		return nil, usageErrorf("%s: catalog %q is not configured (the embedded catalog is \"local\"; others live in --lake-catalog-dsn)", u, u.Catalog)
	}
	l, err := icelake.Open(ctx, icelake.Config{Name: "local", Dir: o.dir, Warehouse: o.warehouse, IOProps: props})
	if err != nil {
		return nil, fmt.Errorf("--lake-dir %s: %w", o.dir, err)
	}
	return l, nil
}

// openCatalog is source.Options.OpenLake: the catalog of an iceberg:// input.
func (o *lakeOptions) openCatalog(ctx context.Context, u lakehouse.TableURI) (source.Catalog, error) {
	l, err := o.open(ctx, u)
	if err != nil {
		return nil, err // not a nil *icelake.Lake in a non-nil interface
	}
	return l, nil
}

// openProfileTable opens srctl collect's iceberg:// sink.
func openProfileTable(ctx context.Context, lo *lakeOptions, u lakehouse.TableURI) (collector.Sink, func(), error) {
	l, err := lo.open(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	return collector.TableSink(icelake.NewProfileWriter(l, u)), func() { l.Close() }, nil
}

// openProxyLogTable opens srctl shadow's iceberg:// log sink.
func openProxyLogTable(ctx context.Context, lo *lakeOptions, u lakehouse.TableURI) (shadowproxy.LogWriter, func(), error) {
	l, err := lo.open(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	return icelake.NewProxyLogWriter(l, u, "srctl shadow"), func() { l.Close() }, nil
}

// runLakeCompact is srctl lake compact once its arguments are checked.
func runLakeCompact(ctx context.Context, g *globals, lo *lakeOptions, u lakehouse.TableURI, from, to time.Time, target int64) error {
	col := icelake.ProxyLogsDef.Partition
	if u.Table == "profiles" {
		col = icelake.ProfilesDef.Partition
	}
	l, err := lo.open(ctx, u)
	if err != nil {
		return err
	}
	defer l.Close()
	res, err := l.Compact(ctx, u.Ident(), col, from, to, target)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%s: %d data files -> %d (%d groups rewritten, %d -> %d bytes)\n",
		u, res.FilesBefore, res.FilesAfter, res.Groups, res.BytesBefore, res.BytesAfter)
	return nil
}

// runLakeExpire is srctl lake expire once its arguments are checked.
func runLakeExpire(ctx context.Context, g *globals, lo *lakeOptions, u lakehouse.TableURI, olderThan time.Duration, retainLast int) error {
	l, err := lo.open(ctx, u)
	if err != nil {
		return err
	}
	defer l.Close()
	before, after, err := l.Expire(ctx, u.Ident(), olderThan, retainLast)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%s: %d snapshots -> %d\n", u, before, after)
	return nil
}

// runLakeImport is srctl lake import once its arguments are checked.
func runLakeImport(ctx context.Context, g *globals, lo *lakeOptions, srcs []string, u lakehouse.TableURI, batchRows int, strict bool, stdin io.Reader) error {
	// The sources of an import are files: a table is not copied into another through here.
	for _, in := range srcs {
		if lakehouse.IsTableURI(in) {
			return usageErrorf("%s: lake import reads JSONL files, gs:// or s3:// objects, not tables", in)
		}
	}
	res, err := source.Resolve(ctx, srcs, source.ProxyLogs, source.Options{Stdin: stdin})
	if err != nil {
		return asUsageError(err)
	}
	if len(res.Objects) == 0 {
		return usageErrorf("no log files (.jsonl, .jsonl.gz) in %v", srcs)
	}
	l, err := lo.open(ctx, u)
	if err != nil {
		return err
	}
	defer l.Close()
	start := time.Now()
	importFn := l.ImportProxyLogs
	if u.Table == "profiles" {
		importFn = l.ImportProfiles
	}
	st, err := importFn(ctx, u.Ident(), res.Objects, batchRows, func(s icelake.ImportStats) {
		g.logger.Info("batch committed", "rows", s.Rows, "batches", s.Batches, "already_there", s.Skipped)
	})
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(g.stdout, "imported %d rows from %d files into %s in %d batches (%d already there) in %.1fs (%.0f rows/s)\n",
		st.Rows, st.Objects, u, st.Batches, st.Skipped, took.Seconds(), float64(st.Rows)/took.Seconds())
	if st.BadLines > 0 {
		fmt.Fprintf(g.stdout, "%d bad lines skipped; first: %s\n", st.BadLines, st.FirstBadLine)
		if strict {
			return &exitCodeError{code: exitFailure, msg: fmt.Sprintf("--strict: %d bad lines", st.BadLines)}
		}
	}
	return nil
}
