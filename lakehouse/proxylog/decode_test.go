package proxylog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
)

const examplePrimary = `{"ts":"2026-02-05T14:30:25.123Z","query_id":"550e8400-e29b-41d4-a716-446655440000","target":"primary","command":"COM_QUERY","query_text":"SELECT * FROM users WHERE id = 123","query_hash":"5d41402abc4b2a76b9719d911017c592","duration_ms":45.2,"bytes_sent":156,"bytes_recv":4096,"success":true,"client_addr":"10.0.0.1:54321"}`

func TestDecodeExample(t *testing.T) {
	var r Row
	if err := decodeBothWays(t, []byte(examplePrimary), &r); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 2, 5, 14, 30, 25, 123e6, time.UTC).UnixNano()
	if r.TS != want || string(r.QueryID) != "550e8400-e29b-41d4-a716-446655440000" || r.Target != Primary ||
		string(r.Command) != "COM_QUERY" || string(r.QueryText) != "SELECT * FROM users WHERE id = 123" ||
		r.DurationMS != 45.2 || r.BytesSent != 156 || r.BytesRecv != 4096 || !r.Success ||
		string(r.ClientAddr) != "10.0.0.1:54321" || r.UnknownKey != nil {
		t.Errorf("decoded %+v", r)
	}
}

func TestDecodeBadLines(t *testing.T) {
	for _, c := range []struct{ line, kind string }{
		{examplePrimary[:len(examplePrimary)-30], KindSyntax},
		{`not json`, KindSyntax},
		{`{"query_id":"a","target":"primary","command":"COM_QUERY"}`, KindMissingField},
		{`{"query_id":"a","target":"replica","command":"COM_QUERY","duration_ms":1}`, KindBadValue},
		{`{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":"fast"}`, KindBadValue},
		{`{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":-1}`, KindBadValue},
		{`{"ts":"yesterday","query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":1}`, KindBadValue},
		{`{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":1,"bytes_recv":1.5}`, KindBadValue},
		{`{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":1} {}`, KindSyntax},
		{"{\"query_id\":\"a\xff\",\"target\":\"primary\",\"command\":\"COM_QUERY\",\"duration_ms\":1}", KindUTF8},
		// Escapes JSON does not have, in a short value, in a long text (past the decoder's first
		// words) and in a key; raw control characters in strings, before and after an escape.
		{`{"query_id":"a\x","target":"primary","command":"COM_QUERY","duration_ms":1}`, KindSyntax},
		{`{"query_text":"SELECT * FROM t WHERE a \u003c 3 AND b = '\q'","query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":1}`, KindSyntax},
		{`{"query_text":"SELECT * FROM t WHERE a \u003c 3 AND b = '\u12'","query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":1}`, KindSyntax},
		{`{"query_text":"SELECT * FROM t WHERE a \u003c 3 AND b = 'x\u00g0'","query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":1}`, KindSyntax},
		{`{"que\zry_id":"a","target":"primary","command":"COM_QUERY","duration_ms":1}`, KindSyntax},
		// Numbers JSON does not have (strconv.ParseFloat takes them all but the first).
		{`{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":00}`, KindBadValue},
		{`{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":01.5}`, KindBadValue},
		{`{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":.5}`, KindBadValue},
		{`{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":1.}`, KindBadValue},
		{`{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":+1}`, KindBadValue},
		{`{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":1e}`, KindBadValue},
		{`{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":1,"bytes_recv":1E+}`, KindBadValue},
		{"{\"query_text\":\"SELECT * FROM t WHERE a = 1 AND b = 'x\tz' OR c > 2\",\"query_id\":\"a\",\"target\":\"primary\",\"command\":\"COM_QUERY\",\"duration_ms\":1}", KindSyntax},
		{"{\"query_text\":\"SELECT * FROM t WHERE a \\u003c 1 AND b = 'x\x01z' OR c > 2\",\"query_id\":\"a\",\"target\":\"primary\",\"command\":\"COM_QUERY\",\"duration_ms\":1}", KindSyntax},
	} {
		var r Row
		err := decodeBothWays(t, []byte(c.line), &r)
		var de *DecodeError
		if !errors.As(err, &de) || de.Kind != c.kind {
			t.Errorf("Decode(%.60q) = %v, want kind %s", c.line, err, c.kind)
		}
	}
}

func TestDecodeLenient(t *testing.T) {
	line := `{ "query_id" : "a", "target":"shadow", "command":"COM_STMT_EXECUTE", "duration_ms":1.5e2, "extra":{"nested":[1,"x\"y",{"z":null}]}, "error":null, "success":false, "ts":"2026-02-05T15:30:25.5+01:00" }`
	var r Row
	if err := decodeBothWays(t, []byte(line), &r); err != nil {
		t.Fatal(err)
	}
	if r.DurationMS != 150 || r.Target != Shadow || string(r.UnknownKey) != "extra" || r.Has&HasError != 0 ||
		r.TS != time.Date(2026, 2, 5, 14, 30, 25, 5e8, time.UTC).UnixNano() {
		t.Errorf("decoded %+v", r)
	}
}

// TestDecodeAgreesWithEncodingJSON encodes random records with encoding/json (the proxy is
// written in Go, so this is the producer's encoder) and checks that every field decodes the same.
func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	texts := []string{"SELECT 1", "SELECT * FROM t WHERE a < 3 AND b > 'x' /*route='%2Fapi%2Fv1',x='it\\'s'*/",
		"SELECT \"q\", '\\\\' FROM `t`\n\tWHERE x = 'é中😀' -- c", "INSERT INTO t VALUES (1)\u2028"}
	for i := range 2000 {
		rec := lakehouse.ProxyLogRecord{
			TS:         time.Unix(1770000000+int64(rng.IntN(1e6)), int64(rng.IntN(1e9))).UTC(),
			QueryID:    fmt.Sprintf("%08x-0000-4000-8000-%012x", rng.Uint32(), i),
			Target:     []string{"primary", "shadow"}[i%2],
			Command:    "COM_QUERY",
			QueryText:  texts[rng.IntN(len(texts))],
			QueryHash:  fmt.Sprintf("%032x", rng.Uint64()),
			DurationMS: float64(rng.IntN(1e7)) / 1000 * []float64{1, 1e-6, 1e5}[rng.IntN(3)], // up to MaxDurationMS
			BytesSent:  int64(rng.IntN(1e9)),
			BytesRecv:  int64(rng.IntN(1e9)),
			Success:    rng.IntN(2) == 0,
			Error:      []string{"", "timeout <5s> & \"quoted\""}[rng.IntN(2)],
			ClientAddr: "10.0.0.1:1234",
			Filtered:   rng.IntN(5) == 0,
		}
		line, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		var r Row
		if err := decodeBothWays(t, line, &r); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if r.TS != rec.TS.UnixNano() || string(r.QueryID) != rec.QueryID || r.Target.String() != rec.Target ||
			text(r.QueryText, r.TextEscaped) != rec.QueryText || string(r.QueryHash) != rec.QueryHash ||
			r.DurationMS != rec.DurationMS || r.BytesSent != rec.BytesSent || r.BytesRecv != rec.BytesRecv ||
			r.Success != rec.Success || text(r.Error, r.ErrorEscaped) != rec.Error || r.Filtered != rec.Filtered {
			t.Fatalf("line %s\ndecoded %+v", line, r)
		}
	}
}

func text(b []byte, esc bool) string {
	if esc {
		return string(Unescape(b))
	}
	return string(b)
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(examplePrimary))
	f.Add([]byte(`{"query_id":"a","target":"shadow","command":"COM_QUERY","duration_ms":1,"query_text":"\u003c\ud83d\ude00\\"}`))
	f.Add([]byte(`{"a":[[[[{}]]]],"query_id":"\"","target":"primary","command":"x","duration_ms":0}`))
	f.Add([]byte(`{"query_id":"a","target":"shadow","command":"COM_QUERY","duration_ms":1,"server_ms":0.25}`))
	f.Add([]byte(`{"query_id":"a","target":"shadow","command":"COM_QUERY","duration_ms":1,"query_text":"SELECT 1 WHERE a \u003c 2 AND b = '\x'"}`))
	f.Add([]byte("{\"query_id\":\"a\",\"target\":\"shadow\",\"command\":\"COM_QUERY\",\"duration_ms\":1,\"query_text\":\"SELECT 1 WHERE a \\u003c 2 AND b = '\t'\"}"))
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Row
		err := decodeBothWays(t, line, &r)
		if err == nil && !json.Valid(line) {
			t.Errorf("accepted invalid JSON %q", line)
		}
		if err == nil && r.Has&HasServerMS != 0 && !(r.ServerMS >= 0 && r.ServerMS <= MaxDurationMS) {
			t.Errorf("accepted server_ms %v outside 0..1e9 in %q", r.ServerMS, line)
		}
		if r.TextEscaped {
			text := Unescape(r.QueryText)
			// TextHTMLEscapes: replacing the three escapes gives the same text as Unescape.
			html := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(r.QueryText))
			if r.TextHTMLEscapes && html != string(text) {
				t.Errorf("TextHTMLEscapes set for %q, which unescapes to %q", r.QueryText, text)
			}
		}
	})
}

// TestTextHTMLEscapes: the flag is set for a text whose only escapes are Go's HTML ones, wherever
// they are, and not for one with any other escape.
func TestTextHTMLEscapes(t *testing.T) {
	for text, want := range map[string]bool{
		`SELECT 1`:   false, // no escape at all
		`a \u003c b`: true,
		`SELECT * FROM t WHERE a \u003e 1 AND b \u0026 2 = 0 /*route='x'*/`: true,
		`SELECT * FROM t WHERE a \u003e 1 AND b = 'a\\b'`:                   false,
		`SELECT * FROM t WHERE a \u003e 1 AND b = '\n'`:                     false,
		`SELECT * FROM t WHERE a \u003e 1 AND b = '\u00e9'`:                 false,
		`\"quoted\" \u003c`: false,
	} {
		line := `{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":1,"query_text":"` + text + `"}`
		var r Row
		if err := decodeBothWays(t, []byte(line), &r); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if r.TextHTMLEscapes != want {
			t.Errorf("%s: TextHTMLEscapes = %v, want %v", text, r.TextHTMLEscapes, want)
		}
	}
}

// TestServerMSBounds: srctl shadow's server time is read like duration_ms, and what no clock
// could measure is a bad value naming the key, not a latency sample.
func TestServerMSBounds(t *testing.T) {
	const head = `{"query_id":"a","target":"shadow","command":"COM_QUERY","duration_ms":1,"server_ms":`
	for v, ok := range map[string]bool{"0.25": true, "0": true, "1e9": true, "null": true, "1e400": false, "-1": false, `"1"`: false, "1e10": false} {
		var r Row
		err := decodeBothWays(t, []byte(head+v+"}"), &r)
		if ok != (err == nil) || !ok && !strings.Contains(err.Error(), "server_ms") {
			t.Errorf("server_ms %s: err %v, want ok=%v", v, err, ok)
		}
		if v == "null" && r.Has&HasServerMS != 0 {
			t.Errorf("server_ms null counts as present")
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{`a\"b`: `a"b`, `\u003cx\u003e`: "<x>", `\ud83d\ude00`: "😀", `\\'`: `\'`, `\n\t`: "\n\t", `bad\u12`: `bad\u12`} {
		if got := string(Unescape([]byte(in))); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
	if strings.Contains(string(Unescape([]byte(`\u0041`))), `\`) {
		t.Error("\\u0041 not unescaped")
	}
}

// TestDecodeKeyPaths holds the compact-key fast path to the general one: the same row written
// with spaces around colons (general path) decodes identically, and keys that merely start like
// known ones stay unknown.
func TestDecodeKeyPaths(t *testing.T) {
	var compact, spaced Row
	if err := decodeBothWays(t, []byte(examplePrimary), &compact); err != nil {
		t.Fatal(err)
	}
	if err := decodeBothWays(t, []byte(strings.ReplaceAll(examplePrimary, `":`, `" : `)), &spaced); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(compact) != fmt.Sprint(spaced) {
		t.Errorf("compact %+v\nspaced  %+v", compact, spaced)
	}
	var escaped Row // "ts" spelt with an escape: a known key written unusually
	if err := decodeBothWays(t, []byte(strings.Replace(examplePrimary, `"ts"`, `"t\u0073"`, 1)), &escaped); err != nil ||
		fmt.Sprint(escaped) != fmt.Sprint(compact) {
		t.Errorf("escaped ts key: %v %+v", err, escaped)
	}
	for _, key := range []string{"tsx", "rows_returned", "errors", "query_text_v2"} {
		line := strings.Replace(examplePrimary, `"client_addr"`, `"`+key+`"`, 1)
		var r Row
		if err := decodeBothWays(t, []byte(line), &r); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if string(r.UnknownKey) != key || r.Has&HasClientAddr != 0 {
			t.Errorf("key %s: unknown %q, has client_addr %v", key, r.UnknownKey, r.Has&HasClientAddr != 0)
		}
	}
}

// TestQuoteOrBackslash checks the SWAR search against a byte loop on random words dense in
// quotes and backslashes.
func TestQuoteOrBackslash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{'"', '\\', 'a', 0, 0x80, 0xff, '"' + 1, '\\' - 1, 0x22 | 0x80}
	for range 100_000 {
		var b [8]byte
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		want := bytes.IndexAny(b[:], "\"\\")
		got := -1
		if m := quoteOrBackslash(binary.LittleEndian.Uint64(b[:])); m != 0 {
			got = bits.TrailingZeros64(m) / 8
		}
		if got != want {
			t.Fatalf("% x: got %d, want %d", b, got, want)
		}
	}
}

// TestParseTime holds the fast path to time.Parse: every day of several years (leap and
// century years included), random times of day and fractions, and invalid dates, which the fast
// path must hand to time.Parse to be rejected.
func TestParseTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var hc hourCache // shared, as a Decoder shares it: every check after the first can hit it
	check := func(s string) {
		t.Helper()
		for _, c := range []*hourCache{{}, &hc} {
			got, ok := parseTime([]byte(s), c)
			want, err := time.Parse(time.RFC3339Nano, s)
			if ok != (err == nil) || (ok && got != want.UnixNano()) {
				t.Fatalf("parseTime(%s) = %d %v, time.Parse says %d %v", s, got, ok, want.UnixNano(), err)
			}
		}
	}
	for _, year := range []int{1970, 1999, 2000, 2024, 2026, 2100, 2199} {
		for d := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == year; d = d.AddDate(0, 0, 1) {
			d := d.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
			check(d.Format(time.RFC3339Nano))
			check(d.Format("2006-01-02T15:04:05Z"))
			check(d.Format("2006-01-02T15:04:05.000Z"))
		}
	}
	for _, s := range []string{"2026-02-29T00:00:00Z", "2026-04-31T10:00:00Z", "2024-02-30T00:00:00Z",
		"2026-13-01T00:00:00Z", "2026-03-05T24:00:00Z", "2026-03-05T10:60:00Z", "2026-03-05T10:00:60Z",
		"1969-12-31T23:59:59.999999999Z", "2300-01-01T00:00:00Z", "2026-03-05T10:00:00.Z", "2026-03-05T10:00:00+01:00"} {
		check(s)
	}
	// Within one hour, then the same minutes and seconds in the next hour, day, month and year
	// (where a stale cached hour would give the wrong time), and invalid minutes after a valid hour.
	for _, s := range []string{"2026-03-05T10:00:00Z", "2026-03-05T10:59:59.5Z", "2026-03-05T11:59:59.5Z",
		"2026-03-06T11:59:59.5Z", "2026-04-06T11:59:59.5Z", "2027-04-06T11:59:59.5Z", "2027-04-06T11:60:00Z",
		"2027-04-06T11:00:60Z", "2027-04-06T11:0a:00Z", "2027-04-06T11:00:00.1x3Z", "2027-04-06T11x00:00Z"} {
		check(s)
	}
	// RFC 3339 allows a lower-case t (time.Parse does not): the same instant, cached hour or not.
	upper, _ := parseTime([]byte("2027-04-06T11:00:00Z"), &hourCache{})
	for _, c := range []*hourCache{{}, &hc} {
		if got, ok := parseTime([]byte("2027-04-06t11:00:00Z"), c); !ok || got != upper {
			t.Errorf("lower-case t: %d %v, want %d", got, ok, upper)
		}
	}
}

// TestDecodeJSONNumbers: every form of JSON number decodes to its value (the forms JSON does not
// have are in TestDecodeBadLines).
func TestDecodeJSONNumbers(t *testing.T) {
	for text, want := range map[string]float64{"0": 0, "-0": 0, "0.25": 0.25, "7": 7, "10.50": 10.5, "1E+2": 100,
		"1e-7": 1e-7, "12.5e3": 12500, "0e0": 0, "123456789.5": 123456789.5, "0.1234567890123456789": 0.1234567890123456789} {
		line := `{"query_id":"a","target":"primary","command":"COM_QUERY","duration_ms":` + text + `}`
		var r Row
		if err := decodeBothWays(t, []byte(line), &r); err != nil || r.DurationMS != want {
			t.Errorf("duration_ms %s: %v, %v (want %v)", text, r.DurationMS, err, want)
		}
	}
}

// TestPlainNumMatchesNumBytes: wherever the eight-bytes-at-a-time reader takes a number, it
// gives numBytes' value (to the bit) and end, over integer and fraction parts of every length
// around its limits, leading zeros, signs, exponents and every kind of byte after the number.
func TestPlainNumMatchesNumBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 22))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	handled, total := 0, 0
	for intLen := range 10 {
		for fracLen := -1; fracLen <= 9; fracLen++ {
			for _, lead := range []string{"", "0", "-"} {
				for _, after := range []string{",", "}", " ", ".", ".5", "e3", "E-1", "+", "-", "x", `\`} {
					for range 20 {
						num := lead + digits(intLen)
						if fracLen >= 0 {
							num += "." + digits(fracLen)
						}
						for _, line := range []string{num + after + strings.Repeat(" ", 16), num + after} {
							d := decoder{b: []byte(line)}
							total++
							v, next, ok := d.plainNum(0)
							if !ok {
								continue
							}
							handled++
							want, wantNext, wantOK := d.numBytes(0)
							if !wantOK || math.Float64bits(v) != math.Float64bits(want) || next != wantNext {
								t.Fatalf("%q: plainNum %v (ends at %d), numBytes %v, %v (ends at %d)", line, v, next, want, wantOK, wantNext)
							}
						}
					}
				}
			}
		}
	}
	// The shapes the proxies write must take the fast path, or it proves nothing.
	for _, num := range []string{"0", "7", "45.2", "3462.465", "4194363", "0.001", "1234567.1234567"} {
		d := decoder{b: []byte(num + `,"bytes_sent":156}`)}
		if _, _, ok := d.plainNum(0); !ok {
			t.Errorf("%s: plainNum did not take it", num)
		}
	}
	if handled < total/50 { // ~4% of the cases above are plain numbers followed by a delimiter
		t.Fatalf("plainNum took %d of %d numbers", handled, total)
	}
}

// FuzzPlainNum holds the fast number reader to numBytes on any bytes.
func FuzzPlainNum(f *testing.F) {
	for _, s := range []string{"45.2,", "3462.465}                ", "4194363, ", "0.5e1           ", "01.5            ", "12345678.1234567"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := decoder{b: b}
		v, next, ok := d.plainNum(0)
		if !ok {
			return
		}
		want, wantNext, wantOK := d.numBytes(0)
		if !wantOK || math.Float64bits(v) != math.Float64bits(want) || next != wantNext {
			t.Fatalf("%q: plainNum %v (ends at %d), numBytes %v, %v (ends at %d)", b, v, next, want, wantOK, wantNext)
		}
	})
}

// decodeBothWays decodes line into r with the structural scan and again with the byte search
// (the path of lines that are not printable ASCII, and of architectures without the vector
// scan), and fails the test unless both give the same row and the same error.
func decodeBothWays(t testing.TB, line []byte, r *Row) error {
	t.Helper()
	scanned := new(Decoder).Decode(line, r)
	var searched Row
	err := (&Decoder{byteSearch: true}).Decode(line, &searched)
	if fmt.Sprint(scanned) != fmt.Sprint(err) {
		t.Fatalf("%q: structural scan says %v, byte search %v", line, scanned, err)
	}
	if !reflect.DeepEqual(*r, searched) {
		t.Fatalf("%q: structural scan decoded\n%+v\nbyte search\n%+v", line, *r, searched)
	}
	// The line as parseChunk meets it, followed by another: split and marked in one pass. The
	// next line's quotes and backslashes share the last block and must not count.
	if bytes.IndexByte(line, '\n') < 0 && !bytes.HasSuffix(line, []byte("\r")) {
		const next = `{"q":"\"\\"}`
		var dc Decoder
		l, rest, marked := dc.nextLine(append(append(bytes.Clone(line), '\n'), next...))
		switch {
		case marked:
			if !bytes.Equal(l, line) || string(rest) != next {
				t.Fatalf("%q: nextLine split it into %q and %q", line, l, rest)
			}
			var fused Row
			err := dc.decodeMarked(l, &fused)
			if fmt.Sprint(scanned) != fmt.Sprint(err) || !reflect.DeepEqual(*r, fused) {
				t.Fatalf("%q: split and scanned in one pass: %v\n%+v\nscanned alone: %v\n%+v", line, err, fused, scanned, *r)
			}
		case structureScan && printableASCII(line):
			t.Fatalf("%q: printable, and nextLine did not mark it", line)
		}
	}
	return scanned
}

// TestDecodeEscapesAtEveryOffset moves escapes (\", \\, \u003c, \n) and the closing quote across
// the structural scan's 64-byte block boundaries and its padded last block, and lines across
// lengths that end on and off a boundary.
func TestDecodeEscapesAtEveryOffset(t *testing.T) {
	for _, tail := range []string{`a"b`, `a\b`, "a<b", "a\nb", `\"`, `\\`, `"\`} {
		for pad := range 200 {
			rec := lakehouse.ProxyLogRecord{QueryID: "q", Target: "shadow", Command: "COM_QUERY",
				QueryText: strings.Repeat("x", pad) + tail + strings.Repeat("y", pad%7), DurationMS: 1}
			line, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			var r Row
			if err := decodeBothWays(t, line, &r); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			if got := text(r.QueryText, r.TextEscaped); got != rec.QueryText {
				t.Fatalf("%s: query_text %q, want %q", line, got, rec.QueryText)
			}
			// Cut short anywhere in the text or after it: never a row.
			for cut := bytes.Index(line, []byte(`"query_text"`)); cut < len(line); cut++ {
				if decodeBothWays(t, line[:cut], &r) == nil {
					t.Fatalf("%s cut at %d decoded", line, cut)
				}
			}
		}
	}
}
