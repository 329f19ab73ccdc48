package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/icelake"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/lakehouse/objstore/objstoretest"
	"github.com/srctl/srctl/lakehouse/proxylog"
)

func row(i int, target string) string {
	return fmt.Sprintf(`{"ts":"2026-03-05T14:%02d:00Z","query_id":"q%06d","target":%q,"command":"COM_QUERY","query_text":"SELECT %d","duration_ms":%d.5,"bytes_recv":100,"success":true}`, i%60, i, target, i, i)
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gz(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readAll reads dir with small chunks (so lines straddle chunk boundaries) and returns the query
// ids per object with their line numbers, plus the stats.
func readAll(t *testing.T, w lakehouse.Window, inputs ...string) (map[string]int, proxylog.Stats, *Set) {
	t.Helper()
	res, err := Resolve(context.Background(), inputs, ProxyLogs, Options{Window: w, Stdin: nil, Store: objstore.Options{}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]int{}
	st, err := res.ReadProxyLogs(context.Background(), proxylog.Options{Workers: 3, ChunkBytes: 300, MaxLineBytes: 1000}, func(_ int, b *proxylog.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for i, r := range b.Rows {
			got[filepath.Base(b.Object)+":"+string(r.QueryID)+":"+r.Target.String()] = b.Lines[i]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st.Quality.Merge(res.Quality)
	return got, st, res
}

func TestReadHiveTreeWithBadInput(t *testing.T) {
	dir := t.TempDir()
	h14 := filepath.Join(dir, "year=2026/month=03/day=05/hour=14")
	var good strings.Builder
	for i := range 50 {
		good.WriteString(row(i, "primary") + "\n" + row(i, "shadow") + "\n")
	}
	write(t, filepath.Join(h14, "a.jsonl"), []byte(good.String()))
	write(t, filepath.Join(h14, "b.jsonl.gz"), gz(t, []byte(row(100, "primary")+"\r\n\n"+row(100, "shadow"))))
	bad := row(200, "primary") + "\n" + row(201, "primary")[:40] + "\n" + `{"x":1}` + "\n" +
		strings.Repeat("x", 5000) + "\n" + row(202, "shadow") + "\n" + "{\"query_id\":\"\xff\"}\n"
	write(t, filepath.Join(h14, "c.jsonl"), []byte(bad))
	write(t, filepath.Join(h14, "empty.jsonl"), nil)
	write(t, filepath.Join(h14, "notes.txt"), []byte("ignored"))
	if err := os.MkdirAll(filepath.Join(dir, "year=2026/month=03/day=05/hour=15"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "year=2026/month=03/day=01/hour=00/old.jsonl"), []byte(row(300, "primary")+"\n"))

	w := lakehouse.Window{Since: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}
	got, st, res := readAll(t, w, dir)
	if res.Pruned != 1 || len(res.Objects) != 4 {
		t.Errorf("pruned %d, objects %d; want 1 pruned (day=01), 4 read", res.Pruned, len(res.Objects))
	}
	if len(got) != 100+2+2 {
		t.Errorf("rows = %d, want 104", len(got))
	}
	if got["a.jsonl:q000049:shadow"] != 100 || got["b.jsonl.gz:q000100:shadow"] != 3 || got["c.jsonl:q000202:shadow"] != 5 {
		t.Errorf("line numbers wrong: %v %v %v", got["a.jsonl:q000049:shadow"], got["b.jsonl.gz:q000100:shadow"], got["c.jsonl:q000202:shadow"])
	}
	q := st.Quality
	for kind, want := range map[string]int64{proxylog.KindSyntax: 1, proxylog.KindMissingField: 1, proxylog.KindTooLong: 1, proxylog.KindUTF8: 1, proxylog.KindEmptyFile: 1, proxylog.KindEmptyPartition: 1} {
		if q.Counts[kind] != want {
			t.Errorf("%s = %d, want %d (all %v)", kind, q.Counts[kind], want, q.Counts)
		}
	}
	if ex := q.Examples[proxylog.KindTooLong]; len(ex) != 1 || !strings.HasSuffix(ex[0].File, "c.jsonl") || ex[0].Line != 4 {
		t.Errorf("too-long example %+v, want c.jsonl:4", ex)
	}
	if ex := q.Examples[proxylog.KindSyntax]; len(ex) != 1 || ex[0].Line != 2 {
		t.Errorf("syntax example %+v, want line 2", ex)
	}
}

func TestReadUnreadableObjectGoesOn(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "ok.jsonl"), []byte(row(1, "primary")+"\n"))
	write(t, filepath.Join(dir, "broken.jsonl.gz"), []byte("this is not gzip"))
	got, st, _ := readAll(t, lakehouse.Window{}, dir)
	if len(got) != 1 || st.Quality.Counts[proxylog.KindUnreadable] != 1 {
		t.Errorf("rows %d, unreadable %d; want 1 and 1", len(got), st.Quality.Counts[proxylog.KindUnreadable])
	}
}

func TestReadStdinAndMissingInput(t *testing.T) {
	res, err := Resolve(context.Background(), []string{"-"}, ProxyLogs, Options{Stdin: strings.NewReader(row(1, "shadow"))})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if _, err := res.ReadProxyLogs(context.Background(), proxylog.Options{}, func(_ int, b *proxylog.Batch) error { n += len(b.Rows); return nil }); err != nil || n != 1 {
		t.Errorf("stdin: %d rows, %v", n, err)
	}
	if _, err := Resolve(context.Background(), []string{"/no/such/dir"}, ProxyLogs, Options{Window: lakehouse.Window{}, Stdin: nil, Store: objstore.Options{}}); err == nil || !strings.Contains(err.Error(), "/no/such/dir") {
		t.Errorf("missing input error %v must name it", err)
	}
}

func TestReadStopsOnProcessError(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 1000 {
		b.WriteString(row(i, "primary") + "\n")
	}
	write(t, filepath.Join(dir, "a.jsonl"), []byte(b.String()))
	res, _ := Resolve(context.Background(), []string{dir}, ProxyLogs, Options{Window: lakehouse.Window{}, Stdin: nil, Store: objstore.Options{}})
	boom := fmt.Errorf("boom")
	_, err := res.ReadProxyLogs(context.Background(), proxylog.Options{ChunkBytes: 500}, func(int, *proxylog.Batch) error { return boom })
	if err != boom {
		t.Errorf("err = %v, want the process error", err)
	}
}

// TestResolveS3PrefixAndObject reads logs from s3:// through the real AWS SDK against gofakes3:
// a prefix (with partition pruning) and a single object.
func TestResolveS3PrefixAndObject(t *testing.T) {
	opts, _ := objstoretest.FakeS3Server(t, "logs")
	setup, err := objstore.Open(context.Background(), "s3://logs", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkBucketRead(t, setup, "s3://logs", opts)
}

// TestResolveGCSPrefixAndObject does the same for gs:// through the real GCS client against
// fake-gcs-server.
func TestResolveGCSPrefixAndObject(t *testing.T) {
	opts, _ := objstoretest.FakeGCSServer(t, "logs")
	setup, err := objstore.Open(context.Background(), "gs://logs", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkBucketRead(t, setup, "gs://logs", opts)
}

// checkBucketRead writes three hourly partitions (one gzipped, one outside the window) through
// setup and reads them back with Resolve and Read: a prefix with pruning, then a single object.
func checkBucketRead(t *testing.T, setup objstore.Bucket, root string, opts objstore.Options) {
	t.Helper()
	put := func(name, data string) {
		if err := setup.Put(context.Background(), name, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	put("shadow/year=2026/month=03/day=05/hour=14/a.jsonl", row(1, "primary")+"\n"+row(1, "shadow")+"\n")
	put("shadow/year=2026/month=03/day=05/hour=15/b.jsonl.gz", string(gz(t, []byte(row(2, "primary")+"\n"))))
	put("shadow/year=2026/month=03/day=01/hour=00/old.jsonl", row(3, "primary")+"\n")
	w := lakehouse.Window{Since: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}
	for uri, want := range map[string]int{root + "/shadow": 3, root + "/shadow/year=2026/month=03/day=05/hour=14/a.jsonl": 2} {
		res, err := Resolve(context.Background(), []string{uri}, ProxyLogs, Options{Window: w, Stdin: nil, Store: opts})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		n := 0
		st, err := res.ReadProxyLogs(context.Background(), proxylog.Options{}, func(_ int, b *proxylog.Batch) error {
			mu.Lock()
			n += len(b.Rows)
			mu.Unlock()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s: %d rows, want %d (objects %d, pruned %d, issues %v)", uri, n, want, len(res.Objects), res.Pruned, st.Quality.Examples)
		}
	}
	if _, err := Resolve(context.Background(), []string{root + "/nothing-here"}, ProxyLogs, Options{Window: w, Stdin: nil, Store: opts}); err == nil || !strings.Contains(err.Error(), root+"/nothing-here") {
		t.Errorf("empty prefix: %v, want an error naming it", err)
	}
}

// TestReadIcebergTable reads a proxy_logs table through Resolve and ReadProxyLogs: every row once,
// Stats counting exactly those rows, with more workers than some Arrow batches have rows, and a
// bad row (an unknown target) reported with its table and row number.
func TestReadIcebergTable(t *testing.T) {
	dir := t.TempDir()
	l, err := icelake.Open(context.Background(), icelake.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := lakehouse.ParseTableURI("iceberg://local/srctl.proxy_logs")
	ts := time.Date(2026, 3, 5, 14, 0, 0, 0, time.UTC)
	want := 0
	for b, n := range []int{1, 7, 2, 30} { // one append (and file) each
		recs := make([]lakehouse.ProxyLogRecord, n)
		for i := range recs {
			recs[i] = lakehouse.ProxyLogRecord{TS: ts.Add(time.Duration(want+i) * time.Second), QueryID: fmt.Sprintf("q%03d", want+i),
				Target: "primary", Command: "COM_QUERY", QueryText: "SELECT 1", DurationMS: 1}
		}
		if b == 3 {
			recs[4].Target = "elsewhere"
		}
		if _, err := l.AppendProxyLogs(context.Background(), u.Ident(), recs, fmt.Sprintf("b%d", b), nil); err != nil {
			t.Fatal(err)
		}
		want += n
	}
	l.Close()
	set, err := Resolve(context.Background(), []string{u.String()}, ProxyLogs, Options{
		OpenLake: func(ctx context.Context, _ lakehouse.TableURI) (Catalog, error) {
			return icelake.Open(ctx, icelake.Config{Dir: dir})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var mu sync.Mutex
	seen := map[string]int{}
	st, err := set.ReadProxyLogs(context.Background(), proxylog.Options{Workers: 5}, func(_ int, b *proxylog.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range b.Rows {
			seen[string(r.QueryID)]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != want-1 || st.Rows != int64(want-1) || st.Lines != int64(want) || st.Files != 1 || st.Bytes < 1000 {
		t.Errorf("%d distinct rows, stats %+v; want %d rows of %d lines in 1 table of its Parquet bytes", len(seen), st, want-1, want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s read %d times", id, n)
		}
	}
	if ex := st.Quality.Examples[proxylog.KindBadValue]; len(ex) != 1 || ex[0].File != u.String() || ex[0].Line == 0 {
		t.Errorf("bad row issue %+v, want one naming the table and a row number", ex)
	}
}
