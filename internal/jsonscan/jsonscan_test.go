package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

var seeds = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e-3`, `"a\u00e9\ud83d\ude00\ud800\\\/\b\f\n\r\t"`,
	`{"a":[1,{"b":null}],"c":"d"}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `[01]`, `[1.]`, `[.5]`, `[-]`, `[1e]`, `[1e+]`,
	`["\x"]`, `["\u12"]`, "[\"\x01\"]", "\"\xff\xfe\"", `[tru]`, `[nul]`, `{"a":1} {}`, ` [ 1 , 2 ] `, `[1 2]`,
	`{"a":1 "b":2}`, `{1:2}`, `"unterminated`, `"\`, `[` + strings.Repeat("[", 10001) + strings.Repeat("]", 10002),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
}

// FuzzSkipIsValid: Skip then End accepts exactly what encoding/json calls valid JSON.
func FuzzSkipIsValid(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := New(b)
		err := r.Skip()
		if err == nil {
			err = r.End()
		}
		if valid := json.Valid(b); valid != (err == nil) {
			t.Fatalf("json.Valid %v, Skip+End: %v", valid, err)
		}
	})
}

// FuzzValuesAreEncodingJSONs: strings, integers, floats and booleans convert as encoding/json
// converts them into string, int64, float64 and bool (both accept, or both refuse, and agree).
func FuzzValuesAreEncodingJSONs(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{`9223372036854775807`, `-9223372036854775808`, `9223372036854775808`, `123456789012345678`, `1e400`, `"\ud800\udc00"`, `"\udc00\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		if len(b) > 0 && strings.TrimSpace(string(b))[0] == 'n' {
			return // null leaves a Go value as it was: callers test Null first
		}
		sameAsEncodingJSON(t, b, "string", (*Reader).String)
		sameAsEncodingJSON(t, b, "int64", (*Reader).Int64)
		sameAsEncodingJSON(t, b, "float64", (*Reader).Float64)
		sameAsEncodingJSON(t, b, "bool", (*Reader).Bool)
	})
}

// sameAsEncodingJSON decodes b into a T with encoding/json and with read (then End): both must
// accept or both refuse, and agree on the value.
func sameAsEncodingJSON[T comparable](t *testing.T, b []byte, name string, read func(*Reader, string) (T, error)) {
	t.Helper()
	var want T
	wantErr := json.Unmarshal(b, &want)
	r := New(b)
	got, gotErr := read(r, name)
	if gotErr == nil {
		gotErr = r.End()
	}
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%s of %q: encoding/json %v, jsonscan %v", name, b, wantErr, gotErr)
	}
	if wantErr == nil && want != got {
		t.Fatalf("%s of %q: encoding/json %#v, jsonscan %#v", name, b, want, got)
	}
}

func TestReaderWalksAnObject(t *testing.T) {
	r := New([]byte(` {"n": 12, "s": "x\"y", "K": true, "skip": {"a": [1, "b"]}, "arr": [3, 4]} `))
	if err := r.BeginObject(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for first := true; ; first = false {
		key, ok := r.NextKey(first)
		if !ok {
			break
		}
		switch {
		case KeyIs(key, "n"):
			v, err := r.Int64("n")
			got = append(got, "n="+strings.Repeat("#", int(v)))
			if err != nil {
				t.Fatal(err)
			}
		case KeyIs(key, "s"):
			s, _ := r.String("s")
			got = append(got, "s="+s)
		case KeyIs(key, "k"): // "K" by case folding
			v, _ := r.Bool("k")
			got = append(got, "k="+map[bool]string{true: "t"}[v])
		case KeyIs(key, "arr"):
			r.BeginArray()
			for f := true; r.NextElem(f); f = false {
				v, _ := r.Int64("arr")
				got = append(got, strings.Repeat("a", int(v)))
			}
		default:
			if err := r.Skip(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := r.End(); err != nil {
		t.Fatal(err)
	}
	want := "n=############ s=x\"y k=t aaa aaaa"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
	}
}

func TestErrorsNameTheOffset(t *testing.T) {
	r := New([]byte(`{"a": 1.5}`))
	r.BeginObject()
	r.NextKey(true)
	_, err := r.Int64("latency")
	if err == nil || !strings.Contains(err.Error(), "latency") || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("error %v should name the field and the offset", err)
	}
	if _, err2 := r.Int64("x"); err2 != err {
		t.Fatalf("errors are sticky: %v then %v", err, err2)
	}
}

// TestErrorsStayShort: a huge number in the wrong place does not make a huge error message.
func TestErrorsStayShort(t *testing.T) {
	r := New([]byte(strings.Repeat("9", 1<<20) + ".5"))
	_, err := r.Int64("latency")
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("error of %d bytes: %.300v", len(err.Error()), err)
	}
}

// FuzzExportedGrammar: IsNumber takes exactly the inputs encoding/json calls one valid number (its
// grammar: 1E1000 is one, though no float64 holds it), and
// EscapeLen's escape is exactly one that makes a valid JSON string.
func FuzzExportedGrammar(f *testing.F) {
	for _, s := range []string{`0`, `-0`, `1.5e-3`, `01`, `1.`, `.5`, `+1`, `1e`, `1E+2`, `-`, `\u00e9`, `\u12`, `\x`, `\"`, `\\`, `\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		isNum := json.Valid(b) && len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') && (b[len(b)-1] >= '0' && b[len(b)-1] <= '9')
		if got := IsNumber(b); got != isNum {
			t.Errorf("IsNumber(%q) = %v, encoding/json says %v", b, got, isNum)
		}
		if len(b) == 0 || b[0] != '\\' {
			return
		}
		n := EscapeLen(b)
		if n > 0 && !json.Valid([]byte(`"`+string(b[:n])+`"`)) {
			t.Errorf("EscapeLen(%q) = %d, but %q is no JSON string", b, n, b[:n])
		}
		k := 2 // a one-character escape, or \u and four hex digits
		if len(b) > 1 && b[1] == 'u' {
			k = 6
		}
		if k <= len(b) && n != k && json.Valid([]byte(`"`+string(b[:k])+`"`)) {
			t.Errorf("EscapeLen(%q) = %d, but the first %d bytes are a valid escape", b, n, k)
		}
	})
}
