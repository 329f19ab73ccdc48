package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/srctl/srctl/analyze/fingerprint"
)

const v1Body = `[
 {"querySource":"TASK","eventTime":1758783023554000000,"queryId":"01997fa3-29c1-76ee-8ebb-8fb73c49655e","isQuery":false,"remoteIP":"","connId":0,
  "startTime":1758783023553,"endTime":-1,"latency":-1,"pendingTime":-1,"netTime":-1,"netComputeTime":-1,"state":"RUNNING",
  "database":"d_iceberg","sql":"cache select * from t","user":"root","scanRows":-1,"scanBytes":-1,"returnRows":-1,"cpuCostNs":-1,
  "memCostBytes":-1,"spillBytes":-1,"warehouse":"default_warehouse","catalog":"default_catalog","queryFeMemory":0,"someFutureField":{"x":1}},
 {"eventTime":1758783024554000001,"queryId":"01997fa3-29c1-76ee-8ebb-8fb73c49655e","state":"FINISHED","startTime":1758783023553,
  "endTime":1758783024553,"latency":1000,"scanRows":12,"scanBytes":4096,"cpuCostNs":55,"cacheMissRatio":12.5,"digest":"abc"}
]`

func TestDecodeQueryDetailsV1(t *testing.T) {
	got, err := decodeQueryDetails([]byte(v1Body))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d entries", len(got))
	}
	r := got[0]
	if r.Terminal() || r.EndTime != nil || r.Latency != nil || r.ScanRows != nil || r.QueryFeMemory == nil || *r.QueryFeMemory != 0 {
		t.Fatalf("-1 must become nil and 0 stay 0: %+v", r)
	}
	f := got[1]
	if !f.Terminal() || *f.Latency != 1000 || *f.ScanRows != 12 || *f.CacheMissRatio != 12.5 {
		t.Fatalf("terminal entry: %+v", f)
	}
	f.mergeRunning(&r)
	if f.SQL != "cache select * from t" || f.Database != "d_iceberg" {
		t.Fatalf("merge from RUNNING: %+v", f)
	}
	rec := buildRecord(&f, "c", "fe:8030", nil, time.Unix(0, 0))
	if rec.DurationMS != 1000 || rec.QueryHash == "" || rec.Digest != "abc" || rec.StartTime.UnixMilli() != 1758783023553 || rec.Endpoint != "" {
		t.Fatalf("record: %+v", rec)
	}
	// Untagged SQL gets its endpoint from the first matching rule.
	rules, err := fingerprint.ParseRules([]byte("endpoints:\n  - name: cache-reads\n    match: '^cache select'\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	rec = buildRecord(&f, "c", "fe:8030", rules, time.Unix(0, 0))
	if rec.Endpoint != "cache-reads" || rec.EndpointSource != fingerprint.SourceRule {
		t.Fatalf("rule endpoint: %q (%s)", rec.Endpoint, rec.EndpointSource)
	}
}

func TestDecodeQueryDetailsV2AndErrors(t *testing.T) {
	got, err := decodeQueryDetails([]byte(`{"code":"0","message":"OK","result":[{"queryId":"a","eventTime":5,"state":"FAILED","errorMessage":"boom"}]}`))
	if err != nil || len(got) != 1 || got[0].ErrorMessage != "boom" {
		t.Fatalf("v2: %v %+v", err, got)
	}
	if got, err := decodeQueryDetails([]byte(`{"code":0,"result":[]}`)); err != nil || len(got) != 0 {
		t.Fatalf("numeric code 0: %v", err)
	}
	for name, body := range map[string]string{
		"truncated": v1Body[:len(v1Body)/2],
		"error":     `{"code":"1","message":"Access denied"}`,
		"html":      `<html>502 Bad Gateway</html>`,
		"empty":     "  ",
	} {
		if _, err := decodeQueryDetails([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := decodeQueryDetails([]byte(`{"code":"1","message":"Access denied"}`)); !strings.Contains(err.Error(), "Access denied") {
		t.Errorf("FE message lost: %v", err)
	}
	// Entries without a query id cannot be keyed and are dropped; invalid UTF-8 is tolerated.
	got, err = decodeQueryDetails([]byte("[{\"eventTime\":1},{\"queryId\":\"x\",\"eventTime\":2,\"sql\":\"select '\xff\xfe'\"}]"))
	if err != nil || len(got) != 1 || got[0].QueryID != "x" {
		t.Fatalf("got %v %+v", err, got)
	}
}

func FuzzDecodeQueryDetails(f *testing.F) {
	f.Add([]byte(v1Body))
	f.Add([]byte(`{"code":"0","result":[{"queryId":"a","eventTime":-1,"latency":-5,"cacheMissRatio":-1}]}`))
	f.Add([]byte(`[{"queryId":"a","startTime":9223372036854775807}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeQueryDetails(body)
		if err != nil {
			return
		}
		for i := range got {
			d := &got[i]
			if d.QueryID == "" {
				t.Fatal("entry without id kept")
			}
			for _, p := range []*int64{d.Latency, d.ScanRows, d.StartTime, d.EndTime} {
				if p != nil && *p < 0 {
					t.Fatal("negative value kept")
				}
			}
			_ = buildRecord(d, "c", "h", nil, time.Now())
		}
	})
}

func TestCursorTracker(t *testing.T) {
	tr := newCursorTracker(100)
	if tr.durable() != 100 {
		t.Fatal(tr.durable())
	}
	tr.add(110)
	tr.add(120)
	tr.add(130)
	tr.seen(140)
	if tr.durable() != 109 {
		t.Fatalf("durable %d, want 109 (below the oldest pending)", tr.durable())
	}
	tr.done(120, "q120")
	if cur, ids := tr.durableWithIDs(); cur != 109 || len(ids) != 1 || ids[0] != "q120" {
		t.Fatalf("done out of order must not move the cursor: %d %v", cur, ids)
	}
	tr.done(110, "q110")
	if tr.durable() != 129 {
		t.Fatalf("durable %d, want 129", tr.durable())
	}
	tr.done(130, "q130")
	if _, ids := tr.durableWithIDs(); len(ids) != 0 {
		t.Fatalf("ids below the cursor kept: %v", ids)
	}
	if tr.durable() != 140 {
		t.Fatalf("durable %d, want 140 (all done: the polled horizon)", tr.durable())
	}
	tr.rewind(50)
	if tr.durable() != 50 {
		t.Fatalf("after rewind %d", tr.durable())
	}
}
