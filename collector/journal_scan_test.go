package collector

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/testdouble/fedouble"
)

// journalLines are lines as the journal writes them: a detail, a record with a profile and its
// metrics, a record without a profile.
func journalLines(t testing.TB) [][]byte {
	j, _, err := openJournal(t.TempDir(), journalOptions{recycle: true})
	if err != nil {
		t.Fatal(err)
	}
	end := int64(1_700_000_000_123)
	d := &QueryDetail{QueryID: "6f0c-\"q\"-1", EventTime: 1_700_000_000_123_000_001, State: "FINISHED", EndTime: &end,
		SQL: "SELECT a FROM t WHERE b < 'x' /*route='/api/v1/x'*/", User: "app", Database: "db"}
	if err := j.appendDetail("fe-0:8030", d, func() {}); err != nil {
		t.Fatal(err)
	}
	rec := buildRecord(d, "prod", "fe-0:8030", nil, time.UnixMilli(end))
	rec.ProfileText = fedouble.GenerateProfile(d.QueryID, d.SQL, d.State, 600)
	rec.ProfileStatus, rec.ProfileBytes = "ok", len(rec.ProfileText)
	for _, r := range []*lakehouse.ProfileRecord{rec, {QueryID: "q2", EventTime: 7, FEHost: "fe-0:8030", ProfileStatus: "evicted"}} {
		if err := j.appendRecord("fe-0:8030", r, func(int64, journalLoc) {}); err != nil {
			t.Fatal(err)
		}
	}
	j.syncNow()
	j.close()
	segs, _ := j.segments()
	b, err := os.ReadFile(j.segName(segs[0]))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

// TestScanJournalLineReadsWhatTheJournalWrites: recovery's scanner gives back each line's header,
// its detail and its record's key, and where their JSON lies.
func TestScanJournalLineReadsWhatTheJournalWrites(t *testing.T) {
	lines := journalLines(t)
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, line := range lines {
		checkScanAgainstUnmarshal(t, line, true)
	}
	e, _ := scanJournalLine(new(detailDecoder), lines[1])
	if e.kind != "record" || e.queryID != `6f0c-"q"-1` || e.eventTime != 1_700_000_000_123_000_001 || e.fe != "fe-0:8030" {
		t.Errorf("record line read as %+v", e)
	}
	// A torn line and a damaged one are refused.
	for _, bad := range [][]byte{lines[1][:len(lines[1])/2], bytes.Replace(lines[0], []byte(`"kind"`), []byte(`"kind`), 1)} {
		if _, ok := scanJournalLine(new(detailDecoder), bad); ok {
			t.Errorf("damaged line accepted: %.80q", bad)
		}
	}
}

// journalKeyEntry is a journalEntry whose record holds only what recovery reads of it.
type journalKeyEntry struct {
	Seq    int64        `json:"seq"`
	Kind   string       `json:"kind"`
	FE     string       `json:"fe"`
	Part   int64        `json:"part,omitempty"`
	Detail *QueryDetail `json:"detail,omitempty"`
	Record *struct {
		QueryID   string `json:"sr_query_id"`
		EventTime int64  `json:"event_time,omitempty"`
	} `json:"record,omitempty"`
}

// checkScanAgainstUnmarshal holds scanJournalLine to json.Unmarshal into a journalKeyEntry: both
// read a line or both refuse it, and what they read is the same; the scanner's offsets delimit
// the detail's and the record's JSON. For lines the journal wrote (full), the record at its
// offsets is the one json.Unmarshal into a whole journalEntry reads.
func checkScanAgainstUnmarshal(t *testing.T, line []byte, full bool) {
	t.Helper()
	var want journalKeyEntry
	werr := json.Unmarshal(line, &want)
	got, ok := scanJournalLine(new(detailDecoder), line)
	if (werr == nil) != ok {
		t.Fatalf("%q: scanner read it: %v; encoding/json: %v", line, ok, werr)
	}
	if !ok {
		return
	}
	if got.seq != want.Seq || got.part != want.Part || got.kind != want.Kind || got.fe != want.FE {
		t.Fatalf("%q: header %d %d %q %q, want %d %d %q %q", line, got.seq, got.part, got.kind, got.fe, want.Seq, want.Part, want.Kind, want.FE)
	}
	if !reflect.DeepEqual(got.detail, want.Detail) {
		t.Fatalf("%q: detail %+v, want %+v", line, got.detail, want.Detail)
	}
	if got.record != (want.Record != nil) {
		t.Fatalf("%q: record %v, want %v", line, got.record, want.Record != nil)
	}
	if want.Record != nil && (got.queryID != want.Record.QueryID || got.eventTime != want.Record.EventTime) {
		t.Fatalf("%q: record key %q %d, want %q %d", line, got.queryID, got.eventTime, want.Record.QueryID, want.Record.EventTime)
	}
	if got.detail != nil {
		var d QueryDetail
		if err := json.Unmarshal(line[got.detailAt:got.detailAt+got.detailN], &d); err != nil || !bytes.HasPrefix(line[got.detailAt:], []byte("{")) {
			t.Fatalf("%q: detail offsets [%d,+%d] do not hold it: %v", line, got.detailAt, got.detailN, err)
		}
	}
	if got.record {
		raw := line[got.recordAt : got.recordAt+got.recordN]
		if !json.Valid(raw) || raw[0] != '{' || raw[len(raw)-1] != '}' {
			t.Fatalf("%q: record offsets [%d,+%d] hold %q", line, got.recordAt, got.recordN, raw)
		}
		if full {
			var whole journalEntry
			var r lakehouse.ProfileRecord
			if err := json.Unmarshal(line, &whole); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &r); err != nil || !reflect.DeepEqual(&r, whole.Record) {
				t.Fatalf("%q: the record at its offsets reads differently: %v", line, err)
			}
		}
	}
}

func FuzzScanJournalLine(f *testing.F) {
	for _, line := range journalLines(f) {
		f.Add(line)
	}
	for _, s := range []string{
		`{"seq":1,"kind":"detail","fe":"a","detail":null}`,
		`{"seq":1,"kind":"record","fe":"a","record":{"sr_query_id":"x"},"record":null,"record":{"event_time":3}}`,
		`{"seq":1,"kind":"detail","fe":"a","detail":{"queryId":"x"},"detail":{"state":"FAILED"}}`,
		`{"SEQ":2,"Kind":"record","FE":"a","part":null,"record":{"SR_QUERY_ID":"y","event_time":1e3}}`,
		`{"seq":1,"kind":"detail","detail":{"QUERYID":"a","latency":1e3}}`,
		`{"seq":1,"kind":"detail","detail":{"queryId":"a","isQuery":true,"isQuery":null,"cacheMissRatio":-0.5,"connId":null}}`,
		`{"seq":1,"kind":"detail","detail":[]}`,
		`{"seq":"1","kind":"record","record":{}}`,
		`{"seq":1,"kind":"record","record":{"profile_text":5}}`,
		` {"seq" : 1 , "kind":"record","record" : { "sr_query_id" : "\u0041" } } ` + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		checkScanAgainstUnmarshal(t, line, false)
	})
}
