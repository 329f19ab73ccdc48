package proxylog

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
)

// randomRecord makes a record with every optional key present or absent, odd text (escapes,
// quotes, non-ASCII, control characters) and values at and beyond the decoder's bounds.
func randomRecord(rng *rand.Rand) lakehouse.ProxyLogRecord {
	texts := []string{"", "SELECT 1", "SELECT \"a\" FROM t WHERE x < 3 && y > 4 -- é 😀", "line\nbreak\ttab\\back", "\x01\x1f ctl", "/* route='/v1/x' */ SELECT ?"}
	pick := func() string { return texts[rng.IntN(len(texts))] }
	targets := []string{"primary", "shadow", "", "mirror"}
	durations := []float64{0, 0.001, 1.5, 12345.678, 1e9, 1e9 + 1, -0.5, math.Inf(1)}
	rec := lakehouse.ProxyLogRecord{
		TS:           time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).UTC(),
		QueryID:      pick(),
		Target:       targets[rng.IntN(len(targets))],
		Command:      []string{"COM_QUERY", "COM_STMT_EXECUTE", ""}[rng.IntN(3)],
		QueryText:    pick(),
		QueryHash:    []string{"", "0123456789abcdef0123456789abcdef"}[rng.IntN(2)],
		DurationMS:   durations[rng.IntN(len(durations))],
		BytesSent:    rng.Int64N(1 << 20),
		BytesRecv:    rng.Int64N(1<<40) - 5,
		Success:      rng.IntN(2) == 0,
		Error:        pick(),
		ClientAddr:   []string{"", "10.0.0.1:5000"}[rng.IntN(2)],
		Filtered:     rng.IntN(3) == 0,
		FilterReason: []string{"", "sql_operation"}[rng.IntN(2)],
		ResultHash:   []string{"", "abc"}[rng.IntN(2)],
		Dropped:      rng.IntN(4) == 0,
		DropReason:   []string{"", "queue_full"}[rng.IntN(2)],
		SQLState:     []string{"", "42000"}[rng.IntN(2)],
		Endpoint:     pick(),
		Role:         []string{"", "source"}[rng.IntN(2)],
	}
	if rng.IntN(2) == 0 {
		rec.ResultSetHash = "def"
	}
	if rng.IntN(2) == 0 {
		c := []int{0, 1064, math.MaxInt32}[rng.IntN(3)]
		rec.ErrorCode = &c
	}
	if rng.IntN(2) == 0 {
		n := []int64{0, 7, 1 << 62, 1<<62 + 1, -(1 << 62) - 1}[rng.IntN(5)]
		rec.Rows = &n
	}
	if rng.IntN(2) == 0 {
		ms := []float64{0, 1.25, 1e9 + 1, -1}[rng.IntN(4)]
		rec.ServerMS = &ms
	}
	return rec
}

// TestFromRecordIsDecodeOfItsJSON: an Iceberg row read straight from its columns is the row diff
// would have decoded from the same record written as JSONL, error for error.
func TestFromRecordIsDecodeOfItsJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	checked := 0
	for i := range 5000 {
		rec := randomRecord(rng)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&rec); err != nil {
			continue // +Inf has no JSON form; such a record cannot be in a JSONL file either
		}
		line := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		var want, got Row
		werr := Decode(line, &want)
		gerr := FromRecord(&rec, &got)
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Fatalf("record %d: Decode error %v, FromRecord error %v\n%s", i, werr, gerr, line)
		}
		if werr != nil {
			continue
		}
		// Decode leaves text escaped; compare the values.
		if want.TextEscaped {
			want.QueryText, want.TextEscaped = Unescape(want.QueryText), false
		}
		if want.ErrorEscaped {
			want.Error, want.ErrorEscaped = Unescape(want.Error), false
		}
		want.UnknownKey = nil
		if !reflect.DeepEqual(normalise(want), normalise(got)) {
			t.Fatalf("record %d:\nDecode     %+v\nFromRecord %+v\n%s", i, want, got, line)
		}
		checked++
	}
	if checked < 1000 {
		t.Fatalf("only %d valid records compared", checked)
	}
}

// normalise makes empty and nil byte slices equal.
func normalise(r Row) Row {
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Slice && f.Len() == 0 {
			f.Set(reflect.Zero(f.Type()))
		}
	}
	return r
}
