package icelake

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/iceberg-go"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore/objstoretest"
	"github.com/srctl/srctl/lakehouse/sink"
)

func openLake(t *testing.T, dir string) *Lake {
	t.Helper()
	l, err := Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// sampleLogs makes n rows over three days, with optional keys set on some.
func sampleLogs(n int, prefix string) []lakehouse.ProxyLogRecord {
	start := time.Date(2026, 3, 5, 22, 0, 0, 0, time.UTC)
	recs := make([]lakehouse.ProxyLogRecord, n)
	for i := range recs {
		r := &recs[i]
		r.TS = start.Add(time.Duration(i) * 37 * time.Minute).Add(123456 * time.Microsecond)
		r.QueryID = fmt.Sprintf("%s-%04d", prefix, i)
		r.Target = []string{"primary", "shadow"}[i%2]
		r.Command = "COM_QUERY"
		r.QueryText = fmt.Sprintf("SELECT %d /*route='/api/x'*/", i)
		r.QueryHash = fmt.Sprintf("%032x", i)
		r.DurationMS = float64(i) + 0.25
		r.BytesSent, r.BytesRecv = int64(100+i), int64(4000+i)
		r.Success = i%7 != 0
		if !r.Success {
			r.Error = "i/o timeout"
		}
		r.ClientAddr = "10.0.0.1:5000"
		if i%5 == 0 {
			code, rows := 1146, int64(0)
			r.ErrorCode, r.SQLState, r.Rows = &code, "42S02", &rows
		}
		if i%11 == 0 {
			r.Filtered, r.FilterReason = true, "sampling"
		}
	}
	return recs
}

func readAll(t *testing.T, l *Lake, u URI, since, until time.Time) []lakehouse.ProxyLogRecord {
	t.Helper()
	var out []lakehouse.ProxyLogRecord
	if err := l.ReadProxyLogs(context.Background(), u.Ident(), since, until, func(rs []lakehouse.ProxyLogRecord) error {
		out = append(out, rs...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b lakehouse.ProxyLogRecord) int { return strings.Compare(a.QueryID, b.QueryID) })
	return out
}

// TestAppendReadBack: rows go in typed, partitioned by day, and come back equal; the data
// files are Parquet with Iceberg field ids; a batch appended twice is there once.
func TestAppendReadBack(t *testing.T) {
	dir := t.TempDir()
	l := openLake(t, dir)
	u, _ := lakehouse.ParseTableURI("iceberg://local/srctl.proxy_logs")
	recs := sampleLogs(120, "q")
	res, err := l.AppendProxyLogs(context.Background(), u.Ident(), recs, "batch-1", map[string]string{"srctl.source": "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 4 || res.AlreadyThere { // 120 rows x 37 min from 22:00 span four days
		t.Errorf("append %+v, want one file per day", res)
	}
	got := readAll(t, l, u, time.Time{}, time.Time{})
	if len(got) != len(recs) {
		t.Fatalf("read %d rows, want %d", len(got), len(recs))
	}
	for i := range recs {
		want := recs[i]
		if fmt.Sprintf("%+v", got[i]) != fmt.Sprintf("%+v", want) && !sameLog(got[i], want) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, got[i], want)
		}
	}
	// Field ids in the Parquet schema, so any engine maps columns by id.
	rdr, err := file.OpenParquetFile(strings.TrimPrefix(res.Files[0], "file://"), false)
	if err != nil {
		t.Fatal(err)
	}
	if id := rdr.MetaData().Schema.Column(0).SchemaNode().FieldID(); id != 1 {
		t.Errorf("ts has field id %d, want 1", id)
	}
	rdr.Close()

	// Idempotent: the same batch again adds nothing.
	again, err := l.AppendProxyLogs(context.Background(), u.Ident(), recs, "batch-1", nil)
	if err != nil || !again.AlreadyThere {
		t.Errorf("second append %+v %v", again, err)
	}
	if n := len(readAll(t, l, u, time.Time{}, time.Time{})); n != len(recs) {
		t.Errorf("%d rows after a repeated batch, want %d", n, len(recs))
	}
	// A time range reads only its rows (and prunes the other days' files).
	since, until := recs[40].TS, recs[59].TS
	if got := readAll(t, l, u, since, until); len(got) != 20 || got[0].QueryID != "q-0040" {
		t.Errorf("range read %d rows from %v", len(got), got[0].QueryID)
	}
	// The snapshot summary carries the batch id and the extra properties.
	tbl, err := l.cat.LoadTable(context.Background(), u.Ident())
	if err != nil {
		t.Fatal(err)
	}
	sum := tbl.CurrentSnapshot().Summary.Properties
	if sum[BatchIDKey] != "batch-1" || sum["srctl.source"] != "test" {
		t.Errorf("summary %v", sum)
	}
}

// sameLog compares two rows field by field (pointers by value).
func sameLog(a, b lakehouse.ProxyLogRecord) bool {
	deref := func(p *int64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	derefI := func(p *int) any {
		if p == nil {
			return nil
		}
		return *p
	}
	a2, b2 := a, b
	a2.Rows, b2.Rows, a2.AffectedRows, b2.AffectedRows, a2.ErrorCode, b2.ErrorCode = nil, nil, nil, nil, nil, nil
	return a2.TS.Equal(b2.TS) && fmt.Sprint(a2) == fmt.Sprint(b2) && deref(a.Rows) == deref(b.Rows) &&
		deref(a.AffectedRows) == deref(b.AffectedRows) && derefI(a.ErrorCode) == derefI(b.ErrorCode)
}

// TestConcurrentWriters: four writers, each with its own catalog connection (as four
// collector processes would have), append to one table at once; no commit is lost.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	u, _ := lakehouse.ParseTableURI("iceberg://local/srctl.proxy_logs")
	openLake(t, dir) // create the catalog once, before the race
	const writers, batches, rows = 4, 5, 30
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		l := openLake(t, dir)
		wg.Go(func() {
			for b := range batches {
				id := fmt.Sprintf("w%d-b%d", w, b)
				if _, err := l.AppendProxyLogs(context.Background(), u.Ident(), sampleLogs(rows, id), id, nil); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	l := openLake(t, dir)
	if got := len(readAll(t, l, u, time.Time{}, time.Time{})); got != writers*batches*rows {
		t.Errorf("%d rows, want %d: a commit was lost or doubled", got, writers*batches*rows)
	}
	tbl, _ := l.cat.LoadTable(context.Background(), u.Ident())
	seen := map[string]int{}
	for _, s := range tbl.Metadata().Snapshots() {
		seen[s.Summary.Properties[BatchIDKey]]++
	}
	if len(seen) != writers*batches {
		t.Errorf("%d distinct batches in the history, want %d", len(seen), writers*batches)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("batch %s committed %d times", id, n)
		}
	}
}

// TestSchemaEvolves: a table made by an older srctl (fewer columns) gains the new ones; its
// old files read back with those columns empty.
func TestSchemaEvolves(t *testing.T) {
	dir := t.TempDir()
	l := openLake(t, dir)
	u, _ := lakehouse.ParseTableURI("iceberg://local/srctl.proxy_logs")
	old := Def{Doc: ProxyLogsDef.Doc, Partition: "ts", Schema: iceberg.NewSchema(0, ProxyLogsDef.Schema.Fields()[:14]...)}
	tbl, err := l.Table(context.Background(), u.Ident(), old)
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.Schema().Fields()) != 14 {
		t.Fatalf("old table has %d columns", len(tbl.Schema().Fields()))
	}
	recs := sampleLogs(10, "old")
	for i := range recs {
		recs[i].ErrorCode, recs[i].SQLState, recs[i].Rows = nil, "", nil
	}
	// Written with the old definition, as the older srctl would have.
	if _, err = l.appendProxyLogs(context.Background(), u.Ident(), old, recs, "old-1", nil); err != nil {
		t.Fatal(err)
	}
	tbl, err = l.Table(context.Background(), u.Ident(), ProxyLogsDef)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(tbl.Schema().Fields()); got != len(ProxyLogsDef.Schema.Fields()) {
		t.Errorf("evolved table has %d columns, want %d", got, len(ProxyLogsDef.Schema.Fields()))
	}
	if _, err := l.AppendProxyLogs(context.Background(), u.Ident(), sampleLogs(10, "new"), "new-1", nil); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, l, u, time.Time{}, time.Time{})
	if len(got) != 20 || got[0].QueryID != "new-0000" || got[0].ErrorCode == nil || got[10].ErrorCode != nil {
		t.Errorf("read %d rows after evolution: %+v", len(got), got[0])
	}
	if _, err := os.Stat(filepath.Join(dir, "catalog.db")); err != nil {
		t.Errorf("the embedded catalog is not under the lake directory: %v", err)
	}
}

// TestProfilesRoundTrip: every key of a profile record, metrics and tags included, survives the
// table (times to the microsecond).
func TestProfilesRoundTrip(t *testing.T) {
	l := openLake(t, t.TempDir())
	u, _ := lakehouse.ParseTableURI("iceberg://local/srctl.profiles")
	isQuery, conn, rows, ratio := true, int64(42), int64(1000), 12.5
	start := time.Date(2026, 3, 5, 23, 59, 59, 999999000, time.UTC)
	full := &lakehouse.ProfileRecord{TS: start.Add(time.Minute), FEHost: "fe1:8030", Cluster: "prod", QueryID: "q-1", State: "FINISHED",
		Database: "shop", User: "app", StartTime: start, EndTime: start.Add(2 * time.Second), DurationMS: 2000.5,
		SQLText: "SELECT 1 /*route='/x'*/", QueryHash: "abc", ProfileText: "Query:\n  Summary:\n", SchemaVersion: 1,
		EventTime: 1741219200000000123, ProfileStatus: "ok", ProfileBytes: 20, Fingerprint: "select ?", FingerprintHash: "def",
		Endpoint: "/x", EndpointSource: "sqlcommenter", Tags: map[string]string{"route": "/x"}, IsQuery: &isQuery, ConnID: &conn,
		ScanRows: &rows, CacheMissRatio: &ratio,
		Metrics: &lakehouse.ProfileMetrics{State: "Finished", CPUNS: 123456789, ScanBytes: 1 << 30,
			TopOperators: []lakehouse.OperatorTime{{Name: "OLAP_SCAN", PlanNodeID: 0, NS: 1000, Share: 0.75}}}}
	sparse := &lakehouse.ProfileRecord{TS: start, Cluster: "prod", QueryID: "q-2", State: "FAILED", ErrorMessage: "boom"}
	if _, err := l.AppendProfiles(context.Background(), u.Ident(), []*lakehouse.ProfileRecord{full, sparse}, "p-1", nil, nil); err != nil {
		t.Fatal(err)
	}
	var got []lakehouse.ProfileRecord
	if err := l.ReadProfiles(context.Background(), u.Ident(), time.Time{}, time.Time{}, func(rs []lakehouse.ProfileRecord) error {
		got = append(got, rs...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b lakehouse.ProfileRecord) int { return strings.Compare(a.QueryID, b.QueryID) })
	if len(got) != 2 {
		t.Fatalf("read %d records", len(got))
	}
	want, _ := json.Marshal([]*lakehouse.ProfileRecord{full, sparse})
	have, _ := json.Marshal(got)
	if string(want) != string(have) {
		t.Errorf("round trip:\nwant %s\n got %s", want, have)
	}
}

// TestPostgresCatalog: the same tables in an SQL catalog held by the local PostgreSQL, with two
// writers committing at once.
func TestPostgresCatalog(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	name := fmt.Sprintf("srctl_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	warehouse := "file://" + t.TempDir()
	open := func() *Lake {
		l, err := Open(context.Background(), Config{Name: name, PostgresDSN: dsn, Warehouse: warehouse})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	a, b := open(), open()
	u := URI{Catalog: name, Namespace: "srctl", Table: "proxy_logs"}
	t.Cleanup(func() { a.cat.DropTable(context.Background(), u.Ident()) })
	var wg sync.WaitGroup
	for i, l := range []*Lake{a, b} {
		wg.Go(func() {
			for j := range 3 {
				id := fmt.Sprintf("pg-%d-%d", i, j)
				if _, err := l.AppendProxyLogs(context.Background(), u.Ident(), sampleLogs(20, id), id, nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got := len(readAll(t, a, u, time.Time{}, time.Time{})); got != 120 {
		t.Errorf("%d rows in the PostgreSQL-catalogued table, want 120", got)
	}
}

// TestS3Warehouse: data and metadata in an S3 bucket (gofakes3 in process, through the AWS SDK
// that iceberg-go's S3 file system uses), the catalog in SQLite.
func TestS3Warehouse(t *testing.T) {
	opts, s3c := objstoretest.FakeS3Server(t, "lake")
	props := map[string]string{"s3.endpoint": opts.S3Endpoint, "s3.region": "us-east-1", "s3.access-key-id": "test",
		"s3.secret-access-key": "test", "s3.force-virtual-addressing": "false"}
	l, err := Open(context.Background(), Config{Dir: t.TempDir(), Warehouse: "s3://lake/warehouse", IOProps: props})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	u, _ := lakehouse.ParseTableURI("iceberg://local/srctl.proxy_logs")
	recs := sampleLogs(50, "s3")
	res, err := l.AppendProxyLogs(context.Background(), u.Ident(), recs, "s3-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Files[0], "s3://lake/warehouse/") {
		t.Errorf("data file %s is not in the bucket", res.Files[0])
	}
	if got := readAll(t, l, u, time.Time{}, time.Time{}); len(got) != 50 {
		t.Errorf("read %d rows back from S3, want 50", len(got))
	}
	out, err := s3c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("warehouse/")})
	if err != nil || len(out.Contents) < 3 {
		t.Errorf("bucket holds %d objects (%v), want data, manifests and metadata", len(out.Contents), err)
	}
}

// TestGCSWarehouse: the same through fake-gcs-server in process and the real GCS client that
// iceberg-go's GCS file system uses (anonymous, JSON API).
func TestGCSWarehouse(t *testing.T) {
	opts, srv := objstoretest.FakeGCSServer(t, "lake")
	props := map[string]string{"gcs.endpoint": opts.GCSEndpoint, "gcs.no-auth": "true", "gcs.usejsonapi": "true"}
	l, err := Open(context.Background(), Config{Dir: t.TempDir(), Warehouse: "gs://lake/warehouse", IOProps: props})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	u, _ := lakehouse.ParseTableURI("iceberg://local/srctl.proxy_logs")
	res, err := l.AppendProxyLogs(context.Background(), u.Ident(), sampleLogs(50, "gcs"), "gcs-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Files[0], "gs://lake/warehouse/") {
		t.Errorf("data file %s is not in the bucket", res.Files[0])
	}
	if got := readAll(t, l, u, time.Time{}, time.Time{}); len(got) != 50 {
		t.Errorf("read %d rows back from GCS, want 50", len(got))
	}
	objs, _, err := srv.ListObjectsWithOptions("lake", fakestorage.ListOptions{Prefix: "warehouse/"})
	if err != nil || len(objs) < 3 {
		t.Errorf("bucket holds %d objects (%v)", len(objs), err)
	}
}

// TestCompactAndExpire: many small batches compact into one file per day with the same rows;
// expiring old snapshots keeps the rows and the collector checkpoint.
func TestCompactAndExpire(t *testing.T) {
	l := openLake(t, t.TempDir())
	u, _ := lakehouse.ParseTableURI("iceberg://local/srctl.proxy_logs")
	for i := range 8 {
		id := fmt.Sprintf("small-%d", i)
		// 8 batches of the same two days: two small files per batch.
		recs := sampleLogs(60, id)
		for j := range recs {
			recs[j].TS = time.Date(2026, 3, 5+j%2, 10, i, j, 0, time.UTC)
		}
		if _, err := l.AppendProxyLogs(context.Background(), u.Ident(), recs, id, nil); err != nil {
			t.Fatal(err)
		}
	}
	before := readAll(t, l, u, time.Time{}, time.Time{})
	res, err := l.Compact(context.Background(), u.Ident(), "ts", time.Time{}, time.Time{}, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesBefore != 16 || res.FilesAfter != 2 {
		t.Errorf("compaction %+v, want 16 files into 2 (one per day)", res)
	}
	after := readAll(t, l, u, time.Time{}, time.Time{})
	if len(after) != len(before) {
		t.Fatalf("compaction changed the rows: %d before, %d after", len(before), len(after))
	}
	for i := range before {
		if !sameLog(before[i], after[i]) {
			t.Fatalf("row %d changed by compaction:\n%+v\n%+v", i, before[i], after[i])
		}
	}

	// Profiles with a collector checkpoint, then expiry of everything but the newest snapshot.
	pu, _ := lakehouse.ParseTableURI("iceberg://local/srctl.profiles")
	pw := NewProfileWriter(l, pu)
	for i := range 3 {
		rec := &lakehouse.ProfileRecord{TS: time.Now().UTC(), Cluster: "prod", QueryID: fmt.Sprintf("q%d", i), StartTime: time.Now().UTC()}
		if err := pw.Write(context.Background(), checkpointed([]*lakehouse.ProfileRecord{rec}, fmt.Sprintf("b%d", i), "prod", fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	// Another cluster commits last: prod's checkpoint is no longer in the newest snapshot.
	other := &lakehouse.ProfileRecord{TS: time.Now().UTC(), Cluster: "staging", QueryID: "s1", StartTime: time.Now().UTC()}
	if err := pw.Write(context.Background(), checkpointed([]*lakehouse.ProfileRecord{other}, "s-b0", "staging", `{"n":9}`)); err != nil {
		t.Fatal(err)
	}
	nBefore, nAfter, err := l.Expire(context.Background(), pu.Ident(), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if nBefore != 4 || nAfter != 1 {
		t.Errorf("expiry kept %d of %d snapshots, want 1 of 4", nAfter, nBefore)
	}
	cp, err := pw.LoadCheckpoint(context.Background(), "srctl.collector-checkpoint.prod")
	if err != nil || string(cp) != `{"n":2}` {
		t.Errorf("prod's checkpoint after expiry: %s %v", cp, err)
	}
	var n int
	l.ReadProfiles(context.Background(), pu.Ident(), time.Time{}, time.Time{}, func(rs []lakehouse.ProfileRecord) error { n += len(rs); return nil })
	if n != 4 {
		t.Errorf("%d profile rows after expiry, want 4", n)
	}
}

func TestLoadFileConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(text string) string {
		p := filepath.Join(dir, "lake.yaml")
		os.WriteFile(p, []byte(text), 0o600)
		return p
	}
	t.Setenv("SRCTL_TEST_LAKE_PW", "hunter2")
	fc, err := LoadFileConfig(write(`catalogs:
  local: {type: sqlite, dir: ./srctl-lake}
  prod:
    type: postgres
    dsn: postgres://lake:${SRCTL_TEST_LAKE_PW}@db/lake
    warehouse: s3://b/p
    io: {s3.region: eu-west-1}
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg, ok := fc.Config("prod")
	if !ok || cfg.PostgresDSN != "postgres://lake:hunter2@db/lake" || cfg.IOProps["s3.region"] != "eu-west-1" || cfg.Warehouse != "s3://b/p" {
		t.Errorf("prod: %+v", cfg)
	}
	if cfg, _ := fc.Config("local"); cfg.Dir != "./srctl-lake" || cfg.PostgresDSN != "" {
		t.Errorf("local: %+v", cfg)
	}
	for text, want := range map[string]string{
		"catalogs:\n  x: {type: sqlite, dri: a}\n":                                          "dri",
		"catalogs:\n  x: {type: mysql}\n":                                                   `type "mysql"`,
		"catalogs:\n  x: {type: rest}\n":                                                    "needs uri",
		"catalogs:\n  x: {type: postgres, dsn: 'postgres://${NOPE_X}'}\n":                   "NOPE_X",
		"catalogs:\n  x: {type: postgres, dsn: 'postgres://a:${SRCTL_TEST_LAKE_PW}@h/d'}\n": "needs dsn and warehouse",
		"other: 1\n": "other",
	} {
		_, err := LoadFileConfig(write(text))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: %v, want an error naming %q without the secret", text, err, want)
		}
	}
}

// checkpointed is a batch of profile records with a collector checkpoint of cluster, as srctl
// collect writes them.
func checkpointed(recs []*lakehouse.ProfileRecord, id, cluster, cp string) sink.Batch[*lakehouse.ProfileRecord] {
	return sink.Batch[*lakehouse.ProfileRecord]{ID: id, Records: recs, Checkpoint: []byte(cp), CheckpointKey: "srctl.collector-checkpoint." + cluster}
}

// TestSmallAppendsMergeManifests: a writer committing every few seconds must not leave one
// manifest per commit for every later scan to read. 40 appends leave few manifests, on a new
// table and on one created before the setting (it gets it with its next append).
func TestSmallAppendsMergeManifests(t *testing.T) {
	for _, old := range []bool{false, true} {
		t.Run(fmt.Sprintf("created_before=%v", old), func(t *testing.T) {
			l := openLake(t, t.TempDir())
			u := URI{Catalog: "local", Namespace: "srctl", Table: "proxy_logs"}
			if old {
				tbl, err := l.Table(context.Background(), u.Ident(), ProxyLogsDef)
				if err != nil {
					t.Fatal(err)
				}
				txn := tbl.NewTransaction()
				if err := txn.RemoveProperties(slices.Collect(maps.Keys(manifestMerging))); err != nil {
					t.Fatal(err)
				}
				if _, err := txn.Commit(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 40 {
				id := fmt.Sprintf("m%02d", i)
				if _, err := l.AppendProxyLogs(context.Background(), u.Ident(), sampleLogs(3, id), id, nil); err != nil {
					t.Fatal(err)
				}
			}
			tbl, err := l.cat.LoadTable(context.Background(), u.Ident())
			if err != nil {
				t.Fatal(err)
			}
			fs, err := tbl.FS(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ms, err := tbl.CurrentSnapshot().Manifests(fs)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("40 appends of 3 rows left %d manifests", len(ms))
			if len(ms) > 16 {
				t.Errorf("%d manifests after 40 small appends: they are not merged", len(ms))
			}
			if got := len(readAll(t, l, u, time.Time{}, time.Time{})); got != 120 {
				t.Errorf("%d rows after merging, want 120", got)
			}
		})
	}
}
