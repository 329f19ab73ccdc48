package jsonl

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

type rec struct {
	A int    `json:"a"`
	S string `json:"s"`
}

func TestReaderReportsBadLinesAndContinues(t *testing.T) {
	in := "{\"a\":1,\"s\":\"x\"}\n\n{\"a\":2,\n{\"a\":3,\"s\":\"<&>\"}\nnot json\n{\"a\":4}"
	r := NewReader[rec](strings.NewReader(in), "f.jsonl")
	var got []int
	var bad []string
	for r.Scan() {
		v, err := r.Record()
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.File != "f.jsonl" {
				t.Fatalf("want SyntaxError naming the file, got %v", err)
			}
			bad = append(bad, err.Error()[:len("f.jsonl:3")])
			continue
		}
		got = append(got, v.A)
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	if want := []int{1, 3, 4}; !equal(got, want) {
		t.Fatalf("records = %v, want %v", got, want)
	}
	if want := []string{"f.jsonl:3", "f.jsonl:5"}; strings.Join(bad, " ") != strings.Join(want, " ") {
		t.Fatalf("bad lines = %v, want %v", bad, want)
	}
}

func TestReaderLineTooLongIsSkipped(t *testing.T) {
	long := `{"a":1,"s":"` + strings.Repeat("x", 5000) + `"}`
	r := NewReader[rec](strings.NewReader(long+"\n{\"a\":2}\n"), "big")
	r.SetMaxLineBytes(1000)
	if !r.Scan() {
		t.Fatal("no first line")
	}
	if _, err := r.Record(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("want ErrLineTooLong, got %v", err)
	}
	if !r.Scan() {
		t.Fatal("stream stopped after long line")
	}
	if v, err := r.Record(); err != nil || v.A != 2 || r.Line() != 2 {
		t.Fatalf("got %v %v line %d", v, err, r.Line())
	}
}

func TestWriterRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	for i := range 3 {
		if err := w.Write(rec{A: i, S: "a<b>\n"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "\n") != 3 || !strings.Contains(b.String(), "a<b>") {
		t.Fatalf("unexpected encoding %q", b.String())
	}
	r := NewReader[rec](&b, "rt")
	n := 0
	for r.Scan() {
		v, err := r.Record()
		if err != nil || v.A != n {
			t.Fatalf("line %d: %v %v", n, v, err)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("read %d records", n)
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{bad\n"))
	f.Add([]byte("\n\n\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader[rec](bytes.NewReader(data), "fuzz")
		r.SetMaxLineBytes(64)
		lines := 0
		for r.Scan() {
			lines++
			if lines > len(data)+1 {
				t.Fatal("more records than bytes")
			}
			r.Record()
		}
	})
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
