package jsonstr

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/srctl/srctl/testdouble/fedouble"
)

// reference is what encoding/json writes for s, with HTML escaping off or on.
func reference(s string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// check compares both modes with encoding/json.
func check(t *testing.T, s string) {
	t.Helper()
	if got, want := string(AppendString(nil, s)), reference(s, false); got != want {
		t.Errorf("AppendString(%.60q)\n got %.200s\nwant %.200s", s, got, want)
	}
	if got, want := string(AppendStringHTML(nil, s)), reference(s, true); got != want {
		t.Errorf("AppendStringHTML(%.60q)\n got %.200s\nwant %.200s", s, got, want)
	}
}

var cases = []string{
	"", "a", "plain ASCII text that is longer than eight bytes",
	`quote " and backslash \ and <html> & co`,
	"\n\r\t\b\f\x00\x01\x1f\x7f", "é ü 中文 😀", "\xff\xfe invalid \xc3", "line\u2028sep\u2029para",
	"12345678\"12345678\\1234567\n", strings.Repeat("x", 7) + "\x80", strings.Repeat("ab\"", 20),
	"WHERE a \u003c 1", "x < 1 AND y > 2 AND z & 4 = 4 /* route='/a&b' */", strings.Repeat("<>&", 9),
	// Newlines, escaped inside the vector copy, until the room kept for the rest runs out.
	strings.Repeat("\n", 300), strings.Repeat("a\n", 200), strings.Repeat(strings.Repeat("x", 31)+"\n", 40),
	strings.Repeat("  - Key: 1\n\t\"q\" <b> & é\n", 30) + strings.Repeat("z", 33),
}

// TestAppendStringMatchesEncodingJSON: copy_amd64_test.go runs it for each vector version.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	checkCases(t)
}

func checkCases(t *testing.T) {
	cases := append(cases, fedouble.GenerateProfile("q-1", "SELECT \"a\" FROM t WHERE x < 1 & y > 2", "FINISHED", 40_000))
	for _, s := range cases {
		// Every alignment of the special bytes against the eight-byte steps and the vector
		// blocks (up to 32 bytes).
		for pad := range 33 {
			check(t, strings.Repeat("p", pad)+s)
		}
	}
	if got := string(AppendString([]byte("prefix:"), "x")); got != `prefix:"x"` {
		t.Errorf("appending to a prefix: %s", got)
	}
	// Into a buffer with exactly the room appendString asks for, followed by a guard that no
	// store may touch (the vector copy must stop when the newlines' escapes use up the room).
	for _, s := range cases {
		room := len(s) + slack + 1
		region := bytes.Repeat([]byte{0xAA}, room+64)
		got := AppendString(region[:0:room], s)
		if string(got) != reference(s, false) {
			t.Errorf("AppendString(%.60q) into a tight buffer: %.200s", s, got)
		}
		if g := region[room:]; !bytes.Equal(g, bytes.Repeat([]byte{0xAA}, 64)) {
			t.Fatalf("AppendString(%.60q) wrote past its buffer's capacity: % x", s, g)
		}
	}
	// Into a buffer with room to spare, as the collector's encoder appends.
	big := make([]byte, 3, 1<<20)
	for _, s := range cases {
		if got, want := string(AppendString(big, s)[3:]), reference(s, false); got != want {
			t.Errorf("AppendString(%.60q) into a large buffer\n got %.200s\nwant %.200s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range cases {
		f.Add(s)
	}
	f.Fuzz(check)
}

func BenchmarkAppendString(b *testing.B) {
	text := fedouble.GenerateProfile("q-1", "SELECT 1", "FINISHED", 40_000)
	b.Run("jsonstr", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		buf := make([]byte, 0, 2*len(text))
		for b.Loop() {
			buf = AppendString(buf[:0], text)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for b.Loop() {
			buf.Reset()
			enc.Encode(text)
		}
	})
}

// FuzzAppendFloatAndTime holds AppendFloat and AppendTime to encoding/json: the same bytes, and
// a refusal exactly where encoding/json refuses.
func FuzzAppendFloatAndTime(f *testing.F) {
	f.Add(12.5, int64(1772668800), int64(123456789), 0)
	f.Add(1e-7, int64(-62135596800), int64(0), 3600)
	f.Add(1e21, int64(253402300800), int64(1), -86400)
	f.Add(math.NaN(), int64(0), int64(0), 24*3600)
	f.Add(math.Copysign(0, -1), int64(-62135596801), int64(999999999), 23*3600+59*60+59)
	f.Fuzz(func(t *testing.T, v float64, sec, nsec int64, offset int) {
		want, err := json.Marshal(v)
		got, ok := AppendFloat([]byte("x"), v)
		if ok != (err == nil) || ok && string(got) != "x"+string(want) || !ok && string(got) != "x" {
			t.Errorf("AppendFloat(%v) = %q, %v; encoding/json %q, %v", v, got, ok, want, err)
		}
		tm := time.Unix(sec, nsec).In(time.FixedZone("z", offset))
		want, err = json.Marshal(tm)
		got, terr := AppendTime([]byte("x"), tm)
		if (terr == nil) != (err == nil) || terr == nil && string(got) != "x"+string(want) || terr != nil && string(got) != "x" {
			t.Errorf("AppendTime(%v) = %q, %v; encoding/json %q, %v", tm, got, terr, want, err)
		}
	})
}
