package sink_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
	"github.com/srctl/srctl/lakehouse/objstore/objstoretest"
	"github.com/srctl/srctl/lakehouse/sink"
	"github.com/srctl/srctl/lakehouse/sink/sinktest"
)

// memStores numbers Mem stores: stores of one name are shared within the process.
var memStores atomic.Int64

// cutBucket fails every Put after the first `ok` ones.
type cutBucket struct {
	objstore.Bucket
	ok   int32
	puts atomic.Int32
}

func (c *cutBucket) Put(ctx context.Context, key string, data []byte) error {
	if c.puts.Add(1) > c.ok {
		return errors.New("connection reset (injected)")
	}
	return c.Bucket.Put(ctx, key, data)
}

func appendJSON[R any](dst []byte, r R) ([]byte, error) {
	b, err := json.Marshal(r)
	return append(dst, b...), err
}

// jsonlHarness runs the suite for records R on JSONL over the buckets open makes.
func jsonlHarness[R any](open func(t *testing.T) objstore.Bucket, hour func(R) time.Time, rec func(int, time.Time) R, key func(R) string) sinktest.Harness[R] {
	newWriter := func(b objstore.Bucket) sink.Writer[R] {
		return &sink.JSONL[R]{Bucket: b, Hour: hour, Append: appendJSON[R]}
	}
	return sinktest.Harness[R]{
		Open: func(t *testing.T) (sink.Writer[R], func() []R) {
			b := open(t)
			return newWriter(b), func() []R {
				var got []R
				err := lakehouse.ScanJSONL(context.Background(), b, "", func(r R, err error) error {
					got = append(got, r)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
		},
		Record: rec,
		Key:    key,
		CutShort: func(t *testing.T, w sink.Writer[R]) sink.Writer[R] {
			return newWriter(&cutBucket{Bucket: w.(*sink.JSONL[R]).Bucket, ok: 1})
		},
	}
}

func proxyLog(i int, ts time.Time) *lakehouse.ProxyLogRecord {
	return &lakehouse.ProxyLogRecord{TS: ts, QueryID: fmt.Sprintf("q%05d", i), Target: "primary", Command: "COM_QUERY", QueryText: "SELECT 1", DurationMS: 1.5}
}

func profile(i int, ts time.Time) *lakehouse.ProfileRecord {
	return &lakehouse.ProfileRecord{TS: ts, StartTime: ts, Cluster: "prod", QueryID: fmt.Sprintf("q%05d", i), State: "FINISHED", SQLText: "SELECT 1"}
}

func TestJSONLConformance(t *testing.T) {
	stores := map[string]func(t *testing.T) objstore.Bucket{
		"file": func(t *testing.T) objstore.Bucket {
			b, err := objstore.Open(context.Background(), "file://"+t.TempDir(), objstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		"mem": func(t *testing.T) objstore.Bucket {
			return objstore.NewMem(fmt.Sprintf("%s-%d", t.Name(), memStores.Add(1))) // names are shared in a process
		},
		"gcs": func(t *testing.T) objstore.Bucket { return objstoretest.FakeGCS(t, "lake", "shadow-logs") },
		"s3":  func(t *testing.T) objstore.Bucket { return objstoretest.FakeS3(t, "lake", "profiles") },
	}
	for name, open := range stores {
		t.Run(name+"/proxy_logs", func(t *testing.T) {
			sinktest.Run(t, jsonlHarness(open, (*lakehouse.ProxyLogRecord).PartitionTime, proxyLog,
				func(r *lakehouse.ProxyLogRecord) string { return r.QueryID }))
		})
		t.Run(name+"/profiles", func(t *testing.T) {
			sinktest.Run(t, jsonlHarness(open, (*lakehouse.ProfileRecord).PartitionTime, profile,
				func(r *lakehouse.ProfileRecord) string { return r.Key() }))
		})
	}
}

// TestJSONLWithRandomNamesFailsTheSuite shows the suite can fail: a writer that names objects
// at random (as srctl did before batch ids) stores a retried batch twice.
func TestJSONLWithRandomNamesFailsTheSuite(t *testing.T) {
	b := objstore.NewMem(fmt.Sprintf("%s-%d", t.Name(), memStores.Add(1)))
	w := randomNames{&sink.JSONL[*lakehouse.ProxyLogRecord]{Bucket: b, Hour: (*lakehouse.ProxyLogRecord).PartitionTime, Append: appendJSON[*lakehouse.ProxyLogRecord]}}
	rs := []*lakehouse.ProxyLogRecord{proxyLog(1, time.Now()), proxyLog(2, time.Now())}
	for range 2 {
		if err := w.Write(context.Background(), sink.Batch[*lakehouse.ProxyLogRecord]{ID: "same", Records: rs}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	lakehouse.ScanJSONL(context.Background(), b, "", func(*lakehouse.ProxyLogRecord, error) error { n++; return nil })
	if n != 4 {
		t.Fatalf("%d records: the random-name writer should have stored the batch twice", n)
	}
}

type randomNames struct {
	sink.Writer[*lakehouse.ProxyLogRecord]
}

func (r randomNames) Write(ctx context.Context, b sink.Batch[*lakehouse.ProxyLogRecord]) error {
	b.ID = sink.NewBatchID(time.Now())
	return r.Writer.Write(ctx, b)
}

func TestBatchIDs(t *testing.T) {
	at := time.Date(2026, 3, 5, 14, 7, 9, 0, time.UTC)
	if id := sink.NewBatchID(at); len(id) != len("20260305_140709_0123abcd") || id[:16] != "20260305_140709_" || id == sink.NewBatchID(at) {
		t.Errorf("NewBatchID = %q: want YYYYMMDD_HHMMSS_<8 hex>, new each time", id)
	}
	a, b := sink.DerivedBatchID(at, []string{"fe1/q1", "fe1/q2"}), sink.DerivedBatchID(at, []string{"fe1/q1", "fe1/q2"})
	if a != b || a == sink.DerivedBatchID(at, []string{"fe1/q1"}) || a[:16] != "20260305_140709_" {
		t.Errorf("DerivedBatchID: %q, %q: want equal for equal keys, different otherwise", a, b)
	}
	w := &sink.JSONL[*lakehouse.ProxyLogRecord]{Bucket: objstore.NewMem(fmt.Sprintf("%s-%d", t.Name(), memStores.Add(1))), Hour: (*lakehouse.ProxyLogRecord).PartitionTime, Append: appendJSON[*lakehouse.ProxyLogRecord]}
	for _, bad := range []string{"", "../x", "a/b", "x y"} {
		if err := w.Write(context.Background(), sink.Batch[*lakehouse.ProxyLogRecord]{ID: bad, Records: []*lakehouse.ProxyLogRecord{proxyLog(1, at)}}); err == nil {
			t.Errorf("batch id %q accepted", bad)
		}
	}
}

// lineRec is a record whose line (its JSON and a newline) a writer already holds, as the
// collector's records read back from its journal.
type lineRec struct {
	ID   string    `json:"id"`
	TS   time.Time `json:"ts"`
	line []byte
}

// putRecorder keeps the data of every Put as it was passed, not a copy, to tell a view of the
// records' own buffer from an object body the sink built.
type putRecorder struct {
	objstore.Bucket
	data map[string][]byte
}

func (p *putRecorder) Put(ctx context.Context, key string, data []byte) error {
	p.data[key] = data
	return p.Bucket.Put(ctx, key, data)
}

// TestJSONLPutsAdjacentLinesFromTheirBuffer: an hour whose records' lines lie one after another
// in one buffer is put from that buffer; every other case (lines out of order, apart, capped, a
// record without a line or with one missing its newline) is encoded with Append, and every
// object holds the same bytes either way.
func TestJSONLPutsAdjacentLinesFromTheirBuffer(t *testing.T) {
	h10 := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	h11 := h10.Add(time.Hour)
	// layout encodes recs into one buffer in the given order and gives each its view (up to the
	// buffer's end, as the collector's arena does).
	layout := func(recs []*lineRec, order []int) []byte {
		var buf []byte
		at := make([]int, len(recs))
		for _, i := range order {
			at[i] = len(buf)
			b, _ := json.Marshal(recs[i])
			buf = append(append(buf, b...), '\n')
		}
		for i, r := range recs {
			b, _ := json.Marshal(r)
			r.line = buf[at[i] : at[i]+len(b)+1]
		}
		return buf
	}
	mk := func(hours ...time.Time) []*lineRec {
		out := make([]*lineRec, len(hours))
		for i, h := range hours {
			out[i] = &lineRec{ID: fmt.Sprintf("r%d", i), TS: h.Add(time.Duration(i) * time.Minute)}
		}
		return out
	}
	inOrder := func(n int) []int {
		o := make([]int, n)
		for i := range o {
			o[i] = i
		}
		return o
	}
	cases := []struct {
		name     string
		recs     []*lineRec
		order    []int                 // the lines' order in the buffer
		mangle   func(recs []*lineRec) // after the layout
		fromBuf  map[time.Time]bool    // hours whose object must be a view of the buffer
		wantObjs int
	}{
		{name: "one hour, lines in order", recs: mk(h10, h10, h10, h10), fromBuf: map[time.Time]bool{h10: true}, wantObjs: 1},
		{name: "hours interleaved: the split hour is encoded, the adjacent one put from the buffer",
			recs: mk(h10, h10, h11, h11, h10), fromBuf: map[time.Time]bool{h10: false, h11: true}, wantObjs: 2},
		{name: "lines out of order", recs: mk(h10, h10, h10), order: []int{1, 0, 2}, fromBuf: map[time.Time]bool{h10: false}, wantObjs: 1},
		{name: "capped views", recs: mk(h10, h10), mangle: func(rs []*lineRec) {
			for _, r := range rs {
				r.line = r.line[:len(r.line):len(r.line)]
			}
		}, fromBuf: map[time.Time]bool{h10: false}, wantObjs: 1},
		{name: "a record without a line", recs: mk(h10, h10, h10), mangle: func(rs []*lineRec) { rs[1].line = nil },
			fromBuf: map[time.Time]bool{h10: false}, wantObjs: 1},
		{name: "a line without its newline", recs: mk(h10, h10), mangle: func(rs []*lineRec) {
			rs[1].line = rs[1].line[:len(rs[1].line)-1]
		}, fromBuf: map[time.Time]bool{h10: false}, wantObjs: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			order := c.order
			if order == nil {
				order = inOrder(len(c.recs))
			}
			buf := layout(c.recs, order)
			if c.mangle != nil {
				c.mangle(c.recs)
			}
			rb := &putRecorder{Bucket: objstore.NewMem(fmt.Sprintf("lines-%d", memStores.Add(1))), data: map[string][]byte{}}
			w := &sink.JSONL[*lineRec]{Bucket: rb, Hour: func(r *lineRec) time.Time { return r.TS },
				Append: appendJSON[*lineRec], Line: func(r *lineRec) []byte { return r.line }}
			if err := w.Write(t.Context(), sink.Batch[*lineRec]{ID: "b1", Records: c.recs}); err != nil {
				t.Fatal(err)
			}
			if len(rb.data) != c.wantObjs {
				t.Fatalf("%d objects, want %d", len(rb.data), c.wantObjs)
			}
			for h, want := range c.fromBuf {
				key := sink.ObjectKey(h, "b1")
				data, ok := rb.data[key]
				if !ok {
					t.Fatalf("no object %s", key)
				}
				inBuf := false
				for i := range buf {
					inBuf = inBuf || &data[0] == &buf[i]
				}
				if inBuf != want {
					t.Errorf("%s: put from the records' buffer: %v, want %v", key, inBuf, want)
				}
				var wantBody []byte
				for _, r := range c.recs {
					if r.TS.Truncate(time.Hour).Equal(h) {
						b, _ := json.Marshal(r)
						wantBody = append(append(wantBody, b...), '\n')
					}
				}
				if string(data) != string(wantBody) {
					t.Errorf("%s holds\n%s\nwant\n%s", key, data, wantBody)
				}
			}
		})
	}
}
