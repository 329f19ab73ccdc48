//go:build !shadowonly

// The lake flags (--lake-dir, --lake-catalog-dsn, --lake-config) every command that reads or
// writes Iceberg tables shares.
package main

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/pflag"
	"github.com/srctl/srctl/lakehouse"
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

// resolve turns command-line inputs of kind into a source.Set through the one scheme switch
// (source.Resolve), opening iceberg:// tables with these lake flags. A mistake in the inputs is
// a usage error (exit 2). The caller closes the Set.
func (o *lakeOptions) resolve(ctx context.Context, inputs []string, kind source.Kind, w lakehouse.Window, stdin io.Reader) (*source.Set, error) {
	set, err := source.Resolve(ctx, inputs, kind, source.Options{Window: w, Stdin: stdin, OpenLake: o.openCatalog})
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
