package proxylog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"

	"github.com/srctl/srctl/testdouble/trafficgen"
)

// BenchmarkDecode measures the line decoder alone, in MB/s of JSONL: on the classic shape
// (20,000 mirrored queries with every quirk, short SQL) and on the real shape (analytic SQL of up
// to 20 KB, escapes in most texts), one decoded line at a time as parseChunk does.
func BenchmarkDecode(b *testing.B) {
	classic := b.TempDir()
	if _, err := trafficgen.Generate(trafficgen.Config{Dir: classic, Queries: 20_000, Endpoints: 60, Hours: 2, Seed: 3,
		Start: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	real, err := realLogs()
	if err != nil {
		b.Fatal(err)
	}
	for _, shape := range []struct{ name, dir string }{{"classic", classic}, {"real", real}} {
		var data []byte
		err := filepath.WalkDir(filepath.Join(shape.dir, "shadow-logs"), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(p) != ".jsonl" || len(data) > 32<<20 {
				return err
			}
			f, err := os.ReadFile(p)
			data = append(data, f...)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
		b.Run("shape="+shape.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var r Row
			var dec Decoder
			for b.Loop() {
				for _, l := range lines {
					if err := dec.Decode(l, &r); err != nil {
						b.Fatalf("%s: %v", l, err)
					}
				}
			}
		})
	}
}

// realLogsDir holds realLogs' files once generated; TestMain removes it.
var realLogsDir string

// realLogs generates 100,000 mirrored queries in the real log shape (analytic SQL of up to 20 KB
// with escaped <, > and &: about 125 MB, more than a CPU cache holds) once per test process.
var realLogs = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "srctl-proxylog-bench-")
	if err != nil {
		return "", err
	}
	realLogsDir = dir
	_, err = trafficgen.Generate(trafficgen.Config{Dir: dir, Queries: 100_000, Endpoints: 300, Hours: 4, Seed: 7,
		Shape: trafficgen.ShapeReal, Start: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)})
	return dir, err
})

func TestMain(m *testing.M) {
	code := m.Run()
	if realLogsDir != "" {
		os.RemoveAll(realLogsDir)
	}
	os.Exit(code)
}

func logObjects(b *testing.B) ([]lakehouse.Object, int64) {
	dir, err := realLogs()
	if err != nil {
		b.Fatal(err)
	}
	var objs []lakehouse.Object
	var size int64
	err = filepath.WalkDir(filepath.Join(dir, "shadow-logs"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".jsonl" {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		size += info.Size()
		objs = append(objs, lakehouse.Object{Name: p, Size: info.Size(),
			Open: func(context.Context) (io.ReadCloser, error) { return os.Open(p) }})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return objs, size
}

// BenchmarkRead measures Read (readers, chunking, parsing on GOMAXPROCS workers) over the real
// log shape by chunk size, in MB/s of JSONL: a chunk that outgrows the CPU's cache before its
// parser reads it is read from memory twice.
//
// objects=1 reads the same bytes as one stream: no worker has an object of its own to read, and
// the one that reads hands chunks to the others.
func BenchmarkRead(b *testing.B) {
	objs, size := logObjects(b)
	one := lakehouse.Object{Name: "all.jsonl", Size: size, Open: func(ctx context.Context) (io.ReadCloser, error) {
		var rs []io.Reader
		var cs []io.Closer
		for _, o := range objs {
			rc, err := o.Open(ctx)
			if err != nil {
				return nil, err
			}
			rs, cs = append(rs, rc), append(cs, rc)
		}
		return multiReadCloser{io.MultiReader(rs...), cs}, nil
	}}
	for _, set := range []struct {
		name string
		objs []lakehouse.Object
	}{{"objects=all", objs}, {"objects=1", []lakehouse.Object{one}}} {
		for _, chunk := range []int{256 << 10, DefaultChunkBytes, 1 << 20, 4 << 20} {
			b.Run(fmt.Sprintf("%s/chunk=%dKiB", set.name, chunk>>10), func(b *testing.B) {
				b.SetBytes(size)
				for b.Loop() {
					st, err := Read(context.Background(), set.objs, Options{ChunkBytes: chunk}, func(int, *Batch) error { return nil })
					if err != nil || st.Quality.Total() != 0 {
						b.Fatalf("read: %v, %d bad lines", err, st.Quality.Total())
					}
				}
			})
		}
	}
}

type multiReadCloser struct {
	io.Reader
	closers []io.Closer
}

func (m multiReadCloser) Close() error {
	for _, c := range m.closers {
		c.Close()
	}
	return nil
}
