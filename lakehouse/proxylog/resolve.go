package proxylog

import (
	"context"
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
)

// Window restricts inputs to a time range. Zero ends are open.
type Window struct{ Since, Until time.Time }

// partitionSlack widens partition pruning: a pair's rows can straddle hour partitions (the shadow
// row is logged after the primary one), so the hour on each side of the window is read too and
// rows are filtered by time later.
const partitionSlack = time.Hour

// keepHour reports whether a partition hour can hold rows of the window.
func (w Window) keepHour(h time.Time) bool {
	if !w.Since.IsZero() && !h.Add(time.Hour+partitionSlack).After(w.Since) {
		return false
	}
	if !w.Until.IsZero() && h.Add(-partitionSlack).After(w.Until) {
		return false
	}
	return true
}

// IsLogFile reports whether a name is a log file srctl reads: .jsonl or .jsonl.gz.
func IsLogFile(name string) bool {
	return strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".jsonl.gz")
}

// Resolved is what Resolve found.
type Resolved struct {
	Objects []Object
	Pruned  int     // log files left out by the time window
	Quality Quality // empty partitions and the like
}

// Resolve turns command-line inputs into the objects to read: "-" (stdin), local files and
// directories (walked), file:// URIs, and gs:// or s3:// prefixes or objects. Hive partitions
// outside w (with an hour of slack) are pruned. An input that does not exist is an error: it
// is a mistake on the command line, not bad data.
func Resolve(ctx context.Context, inputs []string, w Window, stdin io.Reader, storeOpts objstore.Options) (Resolved, error) {
	var res Resolved
	for _, in := range inputs {
		switch {
		case in == "-":
			res.Objects = append(res.Objects, Object{Name: "stdin", Size: -1, Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(stdin), nil
			}})
		case strings.HasPrefix(in, "gs://") || strings.HasPrefix(in, "s3://"):
			if err := res.addBucket(ctx, in, w, storeOpts); err != nil {
				return res, err
			}
		default:
			if err := res.addLocal(ctx, strings.TrimPrefix(in, "file://"), w); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

func (res *Resolved) keep(name string, w Window) bool {
	if h, ok := lakehouse.ParsePartition(name); ok && !w.keepHour(h) {
		res.Pruned++
		return false
	}
	return true
}

func (res *Resolved) addLocal(ctx context.Context, p string, w Window) error {
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("input %s: %w", p, err)
	}
	if !st.IsDir() {
		res.Objects = append(res.Objects, localObject(p, st.Size()))
		return nil
	}
	var found []Object
	// hourDirs tracks hour=HH directories and whether they hold a log file.
	hourDirs := map[string]bool{}
	err = filepath.WalkDir(p, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			res.Quality.Add(Issue{Kind: KindUnreadable, File: fp, Msg: err.Error()})
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
		if !IsLogFile(d.Name()) {
			return nil
		}
		hourDirs[filepath.Dir(fp)] = true
		if !res.keep(filepath.ToSlash(fp), w) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			res.Quality.Add(Issue{Kind: KindUnreadable, File: fp, Msg: err.Error()})
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
		if h, ok := lakehouse.ParsePartition(filepath.ToSlash(dir)); ok && !w.keepHour(h) {
			continue
		}
		res.Quality.Add(Issue{Kind: KindEmptyPartition, File: dir, Msg: "partition has no log files"})
	}
	res.Objects = append(res.Objects, found...)
	return nil
}

func localObject(p string, size int64) Object {
	o := Object{Name: p, Size: size, Open: func(context.Context) (io.ReadCloser, error) { return os.Open(p) }}
	if !strings.HasSuffix(p, ".gz") {
		o.Path = p
	}
	return o
}

// addBucket lists a gs:// or s3:// prefix; a URI naming one log file reads just that object.
func (res *Resolved) addBucket(ctx context.Context, uri string, w Window, opts objstore.Options) error {
	b, err := objstore.Open(ctx, strings.TrimSuffix(uri, "/"), opts)
	if err != nil {
		return fmt.Errorf("input %s: %w", uri, err)
	}
	var keys []string
	if err := b.List(ctx, "", func(key string) error {
		if IsLogFile(key) {
			keys = append(keys, key)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("listing %s: %w", uri, err)
	}
	if len(keys) == 0 && IsLogFile(uri) {
		dir, name := path.Split(uri)
		if b, err = objstore.Open(ctx, strings.TrimSuffix(dir, "/"), opts); err != nil {
			return fmt.Errorf("input %s: %w", uri, err)
		}
		keys = []string{name}
	}
	if len(keys) == 0 {
		return fmt.Errorf("input %s: no .jsonl or .jsonl.gz objects under it", uri)
	}
	base := strings.TrimSuffix(b.String(), "/") + "/"
	for _, k := range keys {
		if !res.keep(k, w) {
			continue
		}
		res.Objects = append(res.Objects, Object{Name: base + k, Size: -1, Open: func(ctx context.Context) (io.ReadCloser, error) {
			return b.Get(ctx, k)
		}})
	}
	return nil
}
