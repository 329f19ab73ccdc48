package shadowproxy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
)

func sampleRecords() []lakehouse.ProxyLogRecord {
	code, rows, aff := 1305, int64(3), int64(0)
	ms, tiny := 0.123456, 1e-7
	t0 := time.Date(2026, 3, 5, 14, 30, 25, 123456789, time.UTC)
	t1 := time.Date(2026, 3, 5, 14, 30, 25, 0, time.UTC)
	return []lakehouse.ProxyLogRecord{
		{TS: t0, QueryID: "550e8400-e29b-41d4-a716-446655440000", Target: "primary", Command: "COM_QUERY",
			QueryText: "SELECT * FROM t WHERE a < 1 AND b > 2 & c /*route='/x'*/\n\t\"q\" \\ \u2028 é \x01", QueryHash: "abc",
			DurationMS: 45.2, BytesSent: 156, BytesRecv: 4096, Success: true, ClientAddr: "10.0.0.1:54321",
			Rows: &rows, AffectedRows: &aff, ResultHash: "0011223344556677", ResultSetHash: "8899aabbccddeeff",
			StartedAt: &t1, ServerMS: &ms, Endpoint: "/x", Fingerprint: "0123456789abcdef", Role: "source", ConnID: 42},
		{TS: t1, QueryID: "q", Target: "shadow", Command: "COM_STMT_EXECUTE", Success: false, Error: "bad \xff utf8",
			ErrorCode: &code, SQLState: "42000", DurationMS: tiny, ServerMS: &tiny},
		{TS: t1, QueryID: "q", Target: "shadow", Command: "COM_QUERY", Filtered: true, FilterReason: "sampling"},
		{TS: t1, QueryID: "q", Target: "shadow", Command: "COM_QUERY", Dropped: true, DropReason: "queue_full", DurationMS: 1e21},
	}
}

func TestAppendRecordMatchesEncodingJSON(t *testing.T) {
	for i, r := range sampleRecords() {
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendRecord(nil, &r); string(got) != string(want) {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzAppendRecord(f *testing.F) {
	f.Add("SELECT 1 <tag> & \u2028", "err\xff", 12.5)
	f.Fuzz(func(t *testing.T, text, errText string, d float64) {
		r := sampleRecords()[0]
		r.QueryText, r.Error, r.DurationMS = text, errText, d
		want, err := json.Marshal(&r)
		if err != nil {
			return // NaN or Inf: encoding/json refuses them
		}
		if got := appendRecord(nil, &r); string(got) != string(want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	})
}
