//go:build !shadowonly

// The lake flags (--lake-dir, --lake-catalog-dsn, --lake-config) every command that reads or
// writes Iceberg tables shares.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
	"github.com/srctl/srctl/internal/redact"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/icelake"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/lakehouse/source"
)

// lakeOptions name the Iceberg catalog of iceberg:// URIs.
type lakeOptions struct {
	config     string
	dir        string
	catalogDSN string
	warehouse  string
	io         []string
}

// defaultLakeDir is the embedded catalog's home when --lake-dir is not given.
const defaultLakeDir = "./srctl-lake"

func (o *lakeOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.config, "lake-config", "", "YAML file of named catalogs (type sqlite, postgres or rest; warehouse; io), ${ENV} expanded; replaces the other --lake-* flags")
	f.StringVar(&o.dir, "lake-dir", defaultLakeDir, "home of the embedded Iceberg catalog \"local\" (catalog.db, SQLite) and its warehouse/ (file://)")
	f.StringVar(&o.catalogDSN, "lake-catalog-dsn", "", "hold Iceberg catalogs in PostgreSQL instead (postgres://user@host/db): any catalog name of an iceberg:// URI is then one in that database")
	f.StringVar(&o.warehouse, "lake-warehouse", "", "where table files go: file:///path, gs://bucket/prefix or s3://bucket/prefix (default for the embedded catalog: --lake-dir/warehouse)")
	f.StringArrayVar(&o.io, "lake-io", nil, "warehouse file-system setting key=value, iceberg-go's keys (s3.endpoint, s3.region, gcs.endpoint, ...); credentials come from the cloud SDKs' usual chains")
}

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
func (o *lakeOptions) open(ctx context.Context, u icelake.URI) (*icelake.Lake, error) {
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

// resolve turns command-line inputs of kind into a source.Set through the one scheme switch
// (source.Resolve), opening iceberg:// tables with these lake flags. A mistake in the inputs is
// a usage error (exit 2). The caller closes the Set.
func (o *lakeOptions) resolve(ctx context.Context, inputs []string, kind source.Kind, w lakehouse.Window, stdin io.Reader) (*source.Set, error) {
	set, err := source.Resolve(ctx, inputs, kind, source.Options{Window: w, Stdin: stdin, OpenLake: o.open})
	return set, asUsageError(err)
}

// readDocument reads one whole document (a profile, a plan) named on the command line.
func readDocument(ctx context.Context, name string, stdin io.Reader, limit int64) ([]byte, error) {
	data, err := source.ReadDocument(ctx, name, stdin, objstore.Options{}, limit)
	return data, asUsageError(err)
}

// asUsageError makes a mistake in what the user named (*source.InputError) a usage error.
func asUsageError(err error) error {
	var ie *source.InputError
	if errors.As(err, &ie) {
		return &usageError{err}
	}
	return err
}
