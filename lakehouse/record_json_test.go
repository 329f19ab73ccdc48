package lakehouse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"
)

// encodingJSON is what the collector wrote before AppendJSON: a json.Encoder with HTML escaping
// off, without its newline.
func encodingJSON(r *ProfileRecord) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// fill sets every field reachable from v to a value of its own (a counter makes each one
// distinct, so a value written under another field's key shows), allocating pointers, maps and
// slices: a field added to ProfileRecord or Headline is filled without this test knowing it.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d <&> \"q\" \\ \n é \u2028", *n))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n) * 1_000_003)
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 3 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, n)
			fill(e, n)
			k.SetString(fmt.Sprintf("k%d", 3-i) + k.String()) // keys out of order
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), n)
		}
		v.Set(s)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 3, 5, 17, 0, *n%60, *n*1001, time.FixedZone("x", 5400))))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), n)
		}
	default:
		panic(fmt.Sprintf("fill: add a case for %s (%s)", v.Kind(), v.Type()))
	}
}

// TestAppendJSONMatchesEncodingJSON: every field set, none set, pointers to zero values, edge
// floats and times: the same bytes as encoding/json, and an error where it fails.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	var full ProfileRecord
	n := 0
	fill(reflect.ValueOf(&full).Elem(), &n)
	zero, zeroPtr, zeroInt, zeroFloat, no := ProfileRecord{}, ProfileRecord{}, int64(0), 0.0, false
	zeroPtr.IsQuery, zeroPtr.ConnID, zeroPtr.ScanRows, zeroPtr.CacheMissRatio = &no, &zeroInt, &zeroInt, &zeroFloat
	zeroPtr.Metrics, zeroPtr.Tags = &ProfileMetrics{}, map[string]string{}
	tiny, huge, neg := full, full, full
	tiny.DurationMS, huge.DurationMS, neg.DurationMS = 1e-7, 1e21, -0.000001
	utc := full
	utc.TS, utc.StartTime, utc.EndTime = time.Unix(1772730000, 123456789).UTC(), time.Unix(0, 0), time.Time{}
	records := map[string]*ProfileRecord{"full": &full, "zero": &zero, "zero pointers": &zeroPtr, "tiny": &tiny, "huge": &huge, "negative": &neg, "utc": &utc}
	for name, r := range records {
		want, err := encodingJSON(r)
		if err != nil {
			t.Fatalf("%s: encoding/json: %v", name, err)
		}
		got, err := r.AppendJSON([]byte("prefix"))
		if err != nil || string(got) != "prefix"+string(want) {
			t.Errorf("%s:\n got %s (%v)\nwant prefix%s", name, got, err, want)
		}
	}
	bad := map[string]func(r *ProfileRecord){
		"NaN duration":  func(r *ProfileRecord) { r.DurationMS = math.NaN() },
		"Inf share":     func(r *ProfileRecord) { r.Metrics.TopOperators[1].Share = math.Inf(1) },
		"year 10000":    func(r *ProfileRecord) { r.EndTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"year -1":       func(r *ProfileRecord) { r.TS = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) },
		"zone 24 hours": func(r *ProfileRecord) { r.StartTime = r.StartTime.In(time.FixedZone("far", 24*3600)) },
	}
	for name, spoil := range bad {
		r := full
		m := *full.Metrics
		m.TopOperators = append([]OperatorTime(nil), full.Metrics.TopOperators...)
		r.Metrics = &m
		spoil(&r)
		if _, err := encodingJSON(&r); err == nil {
			t.Fatalf("%s: encoding/json accepts it", name)
		}
		if got, err := r.AppendJSON([]byte("prefix")); err == nil || string(got) != "prefix" {
			t.Errorf("%s: AppendJSON = %.80q, %v; want an error and nothing appended", name, got, err)
		}
	}
}

// FuzzAppendJSON varies the strings, numbers and times the FE supplies.
func FuzzAppendJSON(f *testing.F) {
	f.Add("q-1", "SELECT 1 /*route='a'*/", "Query:\n  Summary:\n", "k", "v\xff", 12.5, int64(1772730000123), int64(-1), 0.5)
	f.Add("", "", "", "", "", 1e-9, int64(0), int64(1<<62), -3.0)
	f.Fuzz(func(t *testing.T, id, sql, text, tagK, tagV string, dur float64, startMS, scan int64, share float64) {
		r := ProfileRecord{QueryID: id, SQLText: sql, ProfileText: text, DurationMS: dur,
			StartTime: time.UnixMilli(startMS).UTC(), EndTime: time.UnixMilli(startMS).In(time.FixedZone("", 3600)),
			Tags: map[string]string{tagK: tagV, "route": tagV}, ScanBytes: &scan,
			Metrics: &ProfileMetrics{State: tagK, ScanBytes: scan, TopOperators: []OperatorTime{{Name: tagV, NS: scan, Share: share}}}}
		want, werr := encodingJSON(&r)
		got, err := r.AppendJSON(nil)
		if (err == nil) != (werr == nil) || err == nil && !bytes.Equal(got, want) {
			t.Errorf("\n got %s (%v)\nwant %s (%v)", got, err, want, werr)
		}
	})
}

// BenchmarkAppendJSON: a collected record's JSON without its profile text (the text is escaped
// by jsonstr either way), every optional field set, against encoding/json.
func BenchmarkAppendJSON(b *testing.B) {
	var r ProfileRecord
	n := 0
	fill(reflect.ValueOf(&r).Elem(), &n)
	r.ProfileText = ""
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = r.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for b.Loop() {
			buf.Reset()
			enc.Encode(&r)
		}
	})
}
