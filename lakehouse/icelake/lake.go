// Package icelake stores srctl's records in Apache Iceberg tables (apache/iceberg-go with
// apache/arrow-go), so that profiles and proxy logs land in tables any engine can query.
//
// The model: a Lake is one Iceberg catalog with its warehouse. The embedded default is an SQL
// catalog on SQLite (the pure-Go modernc.org/sqlite driver, WAL and a busy timeout so several
// processes can commit) with a file:// warehouse beside it; PostgreSQL can hold the same SQL
// catalog, and a REST catalog server can stand in for both. Tables are created on first use with typed columns, docs and a day partition, and
// gain columns additively when the record does.
//
// Appends are idempotent: each carries a batch id in its snapshot summary (srctl.batch-id).
// The batch's Parquet files are written once; the commit that adds them is retried on any
// failure after reloading the table, and a retry that finds its batch id already in the
// table's history stops there. Several writers (collectors, imports) can so append to one
// table at once without losing or doubling a batch.
//

package icelake

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for PostgreSQL catalogs
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver, pure Go

	"github.com/srctl/srctl/internal/redact"
	"github.com/srctl/srctl/lakehouse"
)

// URI names a table: iceberg://<catalog>/<namespace>.<table>. It is lakehouse.TableURI (parse
// it with lakehouse.ParseTableURI), defined there so that code which must not link Iceberg can
// name tables.
type URI = lakehouse.TableURI

// Config says where a catalog lives.
type Config struct {
	// Name is the catalog's name in URIs ("local" for the embedded default).
	Name string
	// Dir, for the embedded default: the catalog is Dir/catalog.db (SQLite), the warehouse
	// Dir/warehouse.
	Dir string
	// PostgresDSN, when set, holds the SQL catalog in PostgreSQL instead (several catalogs,
	// by Name, can share one database); Warehouse is then required.
	PostgresDSN string
	// Warehouse is where table data and metadata go: file://, gs://bucket/prefix or
	// s3://bucket/prefix (default for the embedded catalog: Dir/warehouse).
	Warehouse string
	// RESTURI, when set, makes the catalog an Iceberg REST catalog at that URL (Name is its
	// name here; Warehouse, if set, is passed as the warehouse to use); RESTToken is its bearer
	// token, if it needs one.
	RESTURI   string
	RESTToken string
	// IOProps configure the warehouse's file system, in iceberg-go's keys: s3.endpoint,
	// s3.region, s3.access-key-id, gcs.endpoint, ... (credentials otherwise come from the
	// cloud SDKs' usual chains).
	IOProps map[string]string
}

// Lake is an open catalog.
type Lake struct {
	name string
	cat  catalog.Catalog
	db   *sql.DB
}

// Open opens (creating on first use) the catalog cfg names.
func Open(ctx context.Context, cfg Config) (*Lake, error) {
	if cfg.Name == "" {
		cfg.Name = "local"
	}
	var (
		db      *sql.DB
		dialect sqlcat.SupportedDialect
		err     error
	)
	warehouse := cfg.Warehouse
	if cfg.RESTURI != "" {
		opts := []rest.Option{rest.WithAdditionalProps(cfg.IOProps)}
		if warehouse != "" {
			opts = append(opts, rest.WithWarehouseLocation(warehouse))
		}
		if cfg.RESTToken != "" {
			opts = append(opts, rest.WithOAuthToken(cfg.RESTToken))
		}
		cat, err := rest.NewCatalog(ctx, cfg.Name, cfg.RESTURI, opts...)
		if err != nil {
			return nil, fmt.Errorf("opening REST catalog %s at %s: %w", cfg.Name, redact.DSN(cfg.RESTURI), redact.Error(err, cfg.Secrets()...))
		}
		return &Lake{name: cfg.Name, cat: cat}, nil
	}
	switch {
	case cfg.PostgresDSN != "":
		if warehouse == "" {
			return nil, errors.New("a PostgreSQL catalog needs a warehouse location (--lake-warehouse)")
		}
		if d := cfg.PostgresDSN; !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://") && !redact.IsKeywordValue(d) {
			// Anything else would reach pgx's parser, whose errors quote what it could not read.
			return nil, fmt.Errorf("PostgreSQL DSN %s: want postgres://user:password@host:port/db or host=... user=... password=... dbname=...", redact.DSN(d))
		}
		db, err = sql.Open("pgx", cfg.PostgresDSN)
		dialect = sqlcat.Postgres
	default:
		if cfg.Dir == "" {
			return nil, errors.New("no lake directory: set --lake-dir")
		}
		abs, aerr := filepath.Abs(cfg.Dir)
		if aerr != nil {
			return nil, aerr
		}
		if err := os.MkdirAll(filepath.Join(abs, "warehouse"), 0o755); err != nil {
			return nil, fmt.Errorf("lake directory: %w", err)
		}
		if warehouse == "" {
			warehouse = (&url.URL{Scheme: "file", Path: filepath.Join(abs, "warehouse")}).String()
		}
		// WAL lets readers run beside a writer; the busy timeout makes concurrent committers
		// wait for the lock instead of failing at once. Both are per connection, so they go
		// in the DSN.
		dsn := "file:" + filepath.Join(abs, "catalog.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
		db, err = sql.Open("sqlite", dsn)
		dialect = sqlcat.SQLite
	}
	if err != nil {
		return nil, fmt.Errorf("opening the catalog database: %w", redact.Error(err, cfg.Secrets()...))
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the catalog database: %w", redact.Error(err, cfg.Secrets()...))
	}
	props := iceberg.Properties{"warehouse": warehouse}
	for k, v := range cfg.IOProps {
		props[k] = v
	}
	cat, err := sqlcat.NewCatalog(cfg.Name, db, dialect, props)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening catalog %s: %w", cfg.Name, err)
	}
	return &Lake{name: cfg.Name, cat: cat, db: db}, nil
}

// Secrets are the credentials in cfg (PostgreSQL DSN, REST URI and token), for masking errors.
func (cfg Config) Secrets() []string {
	out := append(redact.Secrets(cfg.PostgresDSN), redact.Secrets(cfg.RESTURI)...)
	if cfg.RESTToken != "" {
		out = append(out, cfg.RESTToken)
	}
	for k, v := range cfg.IOProps {
		if strings.Contains(strings.ToLower(k), "secret") || strings.Contains(strings.ToLower(k), "token") || strings.Contains(strings.ToLower(k), "key") {
			out = append(out, v)
		}
	}
	return out
}

// Name is the catalog's name.
func (l *Lake) Name() string { return l.name }

// Close closes the catalog database (a REST catalog holds none).
func (l *Lake) Close() error {
	if l.db == nil {
		return nil
	}
	return l.db.Close()
}

// ensureNamespace creates ns if it does not exist (concurrent creators are fine).
func (l *Lake) ensureNamespace(ctx context.Context, ns string) error {
	ident := table.Identifier{ns}
	exists, err := l.cat.CheckNamespaceExists(ctx, ident)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	if exists {
		return nil
	}
	if err := l.cat.CreateNamespace(ctx, ident, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	return nil
}

// Def describes one of srctl's tables.
type Def struct {
	Doc       string
	Schema    *iceberg.Schema
	Partition string // the timestamp column partitioned by day
}

// Table opens the table, creating it from def on first use and adding any column def has and
// the table lacks (old files stay readable: new columns read as null there).
func (l *Lake) Table(ctx context.Context, ident table.Identifier, def Def) (*table.Table, error) {
	tbl, err := l.cat.LoadTable(ctx, ident)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		if err := l.ensureNamespace(ctx, ident[0]); err != nil {
			return nil, err
		}
		src, ok := def.Schema.FindFieldByName(def.Partition)
		if !ok {
			return nil, fmt.Errorf("table %v: no partition column %s", ident, def.Partition)
		}
		spec := iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{src.ID}, FieldID: 1000,
			Name: def.Partition + "_day", Transform: iceberg.DayTransform{}})
		tbl, err = l.cat.CreateTable(ctx, ident, def.Schema, catalog.WithPartitionSpec(&spec),
			catalog.WithProperties(withManifestMerging(iceberg.Properties{
				"comment":                         def.Doc,
				"format-version":                  "2",
				"write.parquet.compression-codec": "zstd",
			})))
		if errors.Is(err, catalog.ErrTableAlreadyExists) {
			tbl, err = l.cat.LoadTable(ctx, ident) // another writer created it first
		}
		if err != nil {
			return nil, fmt.Errorf("creating table %v: %w", ident, err)
		}
		return tbl, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading table %v: %w", ident, err)
	}
	return l.evolve(ctx, tbl, def)
}

// manifestMerging makes appends merge small manifests: a collector or a shadow proxy commits
// every few seconds, and each fast append adds a manifest that every later scan must read. With
// these, the 16th small manifest is merged with the others into one (iceberg-go's merge append;
// `srctl lake compact` rewrites them all). An operator's own value is kept.
var manifestMerging = map[string]string{
	table.ManifestMergeEnabledKey:  "true",
	table.ManifestMinMergeCountKey: "16",
}

func withManifestMerging(p iceberg.Properties) iceberg.Properties {
	for k, v := range manifestMerging {
		if _, ok := p[k]; !ok {
			p[k] = v
		}
	}
	return p
}

// missingManifestMerging is what a table created before manifestMerging lacks of it (nil: none).
func missingManifestMerging(tbl *table.Table) map[string]string {
	var add map[string]string
	for k, v := range manifestMerging {
		if _, ok := tbl.Properties()[k]; !ok {
			if add == nil {
				add = map[string]string{}
			}
			add[k] = v
		}
	}
	return add
}

// evolve adds the columns of def that tbl lacks, as optional columns.
func (l *Lake) evolve(ctx context.Context, tbl *table.Table, def Def) (*table.Table, error) {
	have := tbl.Schema()
	var missing []iceberg.NestedField
	for _, f := range def.Schema.Fields() {
		if _, ok := have.FindFieldByName(f.Name); !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return tbl, nil
	}
	txn := tbl.NewTransaction()
	upd := txn.UpdateSchema(true, false)
	for _, f := range missing {
		upd = upd.AddColumn([]string{f.Name}, f.Type, f.Doc, false, nil)
	}
	if err := upd.Commit(); err != nil {
		return nil, fmt.Errorf("adding columns to %v: %w", tbl.Identifier(), err)
	}
	next, err := txn.Commit(ctx)
	if err != nil {
		return nil, fmt.Errorf("adding columns to %v: %w", tbl.Identifier(), err)
	}
	return next, nil
}
