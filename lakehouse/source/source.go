// Package source is the one way into the lake: it turns the inputs a user names (paths,
// file://, gs://, s3://, - for standard input, iceberg:// tables) into typed records.
//
// Resolve is the only scheme switch in srctl. It prunes Hive partitions (year=/month=/day=/hour=)
// outside a time window, notes empty partitions and unreadable files as data-quality issues, and
// returns a Set. A Set reads proxy-log rows (ReadProxyLogs: the parallel byte decoder for
// JSONL(.gz), rows straight from Arrow columns for Iceberg) or profile records (ReadProfiles)
// alike, whatever mix of stores the inputs came from. A new input kind is added here and nowhere
// else.
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/lakehouse/proxylog"
)

// Kind is the kind of records the inputs hold.
type Kind int

// Kinds.
const (
	ProxyLogs Kind = iota // shadow-proxy query logs (FORMATS.md section 1)
	Profiles              // srctl collect's profile records
)

// InputError is a mistake in what the user named (a missing path, an empty prefix, a bad
// table URI): nothing was read. Commands report it as a usage error.
type InputError struct {
	Input string
	Err   error
}

func (e *InputError) Error() string {
	if e.Input == "" {
		return e.Err.Error() // the error names the input itself
	}
	return fmt.Sprintf("input %s: %v", e.Input, e.Err)
}
func (e *InputError) Unwrap() error { return e.Err }

// Options say how to resolve inputs.
type Options struct {
	Window lakehouse.Window // partitions and table rows outside it (with an hour of slack) are not read
	Stdin  io.Reader        // read for the input "-"
	Store  objstore.Options // gs:// and s3:// client settings
	// OpenLake opens the catalog of an iceberg:// input (the CLI's --lake-* flags); nil refuses
	// such inputs. The Set closes what it returns.
	OpenLake func(ctx context.Context, u lakehouse.TableURI) (Catalog, error)
}

// Catalog reads srctl's Iceberg tables: an open lakehouse/icelake.Lake. It is an interface so
// that this package, which every command goes through, does not link the Iceberg code (srctl's
// split build leaves it out: cmd/srctl/lake_split.go).
type Catalog interface {
	// ScanProxyLogs calls fn with the rows of a proxy_logs table between since and until, in
	// batches, and returns the bytes of data files read.
	ScanProxyLogs(ctx context.Context, ident []string, since, until time.Time, fn func([]lakehouse.ProxyLogRecord) error) (int64, error)
	// ReadProfiles calls fn with the records of a profiles table between since and until.
	ReadProfiles(ctx context.Context, ident []string, since, until time.Time, fn func([]lakehouse.ProfileRecord) error) error
	Close() error
}

// Table is an Iceberg table input.
type Table struct {
	URI  lakehouse.TableURI
	Lake Catalog
}

// Set is what Resolve found: JSONL objects and Iceberg tables, read in that order.
type Set struct {
	Kind    Kind
	Window  lakehouse.Window
	Objects []lakehouse.Object
	Tables  []Table
	Pruned  int              // files left out by the time window
	Quality proxylog.Quality // empty partitions, unreadable directory entries
	closers []io.Closer
}

// Empty reports whether nothing is left to read.
func (s *Set) Empty() bool { return len(s.Objects) == 0 && len(s.Tables) == 0 }

// Resolution is what resolving left out or noticed: files pruned by the time window, and
// data-quality issues (empty partitions, unreadable directory entries).
func (s *Set) Resolution() (pruned int, quality proxylog.Quality) { return s.Pruned, s.Quality }

// Close closes the catalogs the Set opened.
func (s *Set) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// Resolve turns inputs into a Set of kind. An input that does not exist, a prefix with no
// record files and a malformed table URI are *InputError: a mistake on the command line, not bad
// data. On error the Set is closed.
func Resolve(ctx context.Context, inputs []string, kind Kind, opts Options) (*Set, error) {
	s := &Set{Kind: kind, Window: opts.Window}
	for _, in := range inputs {
		var err error
		switch {
		case in == "-":
			stdin := opts.Stdin
			if stdin == nil {
				stdin = os.Stdin
			}
			s.Objects = append(s.Objects, lakehouse.Object{Name: "stdin", Size: -1, Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(stdin), nil
			}})
		case lakehouse.IsTableURI(in):
			err = s.addTable(ctx, in, opts)
		case strings.HasPrefix(in, "gs://") || strings.HasPrefix(in, "s3://"):
			err = s.addBucket(ctx, in, opts)
		default:
			err = s.addLocal(ctx, strings.TrimPrefix(in, "file://"))
		}
		if err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Set) addTable(ctx context.Context, in string, opts Options) error {
	u, err := lakehouse.ParseTableURI(in)
	if err != nil {
		return &InputError{in, err}
	}
	if opts.OpenLake == nil {
		return &InputError{in, errors.New("Iceberg tables are not read here")}
	}
	l, err := opts.OpenLake(ctx, u)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, l)
	s.Tables = append(s.Tables, Table{URI: u, Lake: l})
	return nil
}

func (s *Set) keep(name string) bool {
	if h, ok := lakehouse.ParsePartition(name); ok && !s.Window.KeepHour(h) {
		s.Pruned++
		return false
	}
	return true
}

func (s *Set) addLocal(ctx context.Context, p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return &InputError{p, err}
	}
	if !st.IsDir() {
		s.Objects = append(s.Objects, localObject(p, st.Size()))
		return nil
	}
	var found []lakehouse.Object
	// hourDirs tracks hour=HH directories and whether they hold a record file.
	hourDirs := map[string]bool{}
	err = filepath.WalkDir(p, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			s.Quality.Add(proxylog.Issue{Kind: proxylog.KindUnreadable, File: fp, Msg: err.Error()})
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), "hour=") {
				if _, seen := hourDirs[fp]; !seen {
					hourDirs[fp] = false
				}
			}
			return nil
		}
		if !lakehouse.IsJSONLFile(d.Name()) {
			return nil
		}
		hourDirs[filepath.Dir(fp)] = true
		if !s.keep(filepath.ToSlash(fp)) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			s.Quality.Add(proxylog.Issue{Kind: proxylog.KindUnreadable, File: fp, Msg: err.Error()})
			return nil
		}
		found = append(found, localObject(fp, info.Size()))
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing %s: %w", p, err)
	}
	dirs := make([]string, 0, len(hourDirs))
	for dir, has := range hourDirs {
		if !has {
			dirs = append(dirs, dir)
		}
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		if h, ok := lakehouse.ParsePartition(filepath.ToSlash(dir)); ok && !s.Window.KeepHour(h) {
			continue
		}
		s.Quality.Add(proxylog.Issue{Kind: proxylog.KindEmptyPartition, File: dir, Msg: "partition has no log files"})
	}
	s.Objects = append(s.Objects, found...)
	return nil
}

func localObject(p string, size int64) lakehouse.Object {
	return lakehouse.Object{Name: p, Size: size, Open: func(context.Context) (io.ReadCloser, error) { return os.Open(p) }}
}

// addBucket lists a gs:// or s3:// prefix; a URI naming one record file reads just that object.
func (s *Set) addBucket(ctx context.Context, uri string, opts Options) error {
	b, err := objstore.Open(ctx, strings.TrimSuffix(uri, "/"), opts.Store)
	if err != nil {
		return &InputError{uri, err}
	}
	var keys []string
	if err := b.List(ctx, "", func(key string) error {
		if lakehouse.IsJSONLFile(key) {
			keys = append(keys, key)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("listing %s: %w", uri, err)
	}
	if len(keys) == 0 && lakehouse.IsJSONLFile(uri) {
		dir, name := path.Split(uri)
		if b, err = objstore.Open(ctx, strings.TrimSuffix(dir, "/"), opts.Store); err != nil {
			return &InputError{uri, err}
		}
		keys = []string{name}
	}
	if len(keys) == 0 {
		return &InputError{uri, errors.New("no .jsonl or .jsonl.gz objects under it")}
	}
	base := strings.TrimSuffix(b.String(), "/") + "/"
	for _, k := range keys {
		if !s.keep(k) {
			continue
		}
		s.Objects = append(s.Objects, lakehouse.Object{Name: base + k, Size: -1, Open: func(ctx context.Context) (io.ReadCloser, error) {
			return b.Get(ctx, k)
		}})
	}
	return nil
}
