// Package jsonscan reads JSON from outside srctl (a StarRocks FE's HTTP answers) strictly and
// without reflection: a caller walks objects and arrays itself, takes the fields it knows and
// skips the rest. It accepts exactly what encoding/json accepts (RFC 8259, nesting up to 10,000
// levels) and converts values as encoding/json does into Go strings, int64, float64 and bool:
// the collector's query_detail decoder is fuzzed against encoding/json through it.
//
// What it saves over encoding/json: reflection, a first validating pass over the whole input,
// and an allocation per pointer field. The caller decides what to allocate.
package jsonscan

import (
	"bytes"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// Reader walks one JSON text. Errors are sticky: after the first, every method returns it.
type Reader struct {
	b     []byte
	i     int
	depth int
	err   error
	key   []byte // scratch for keys with escapes
	text  []byte // scratch for string values with escapes
}

// New returns a Reader over b. b must not change while the Reader is used.
func New(b []byte) *Reader { return &Reader{b: b} }

// Reset starts the Reader over on b, keeping its scratch buffers (up to 64 KiB each).
func (r *Reader) Reset(b []byte) {
	key, text := r.key, r.text
	if cap(key) > 64<<10 {
		key = nil
	}
	if cap(text) > 64<<10 {
		text = nil
	}
	*r = Reader{b: b, key: key[:0], text: text[:0]}
}

// Err is the first error met, if any.
func (r *Reader) Err() error { return r.err }

// Offset is the position of the next byte to read.
func (r *Reader) Offset() int { return r.i }

func (r *Reader) fail(format string, args ...any) error {
	if r.err == nil {
		r.err = fmt.Errorf("JSON at offset %d: %s", r.i, fmt.Sprintf(format, args...))
	}
	return r.err
}

func (r *Reader) syntax(what string) error {
	if r.i >= len(r.b) {
		return r.fail("unexpected end of input, want %s", what)
	}
	return r.fail("invalid character %q, want %s", r.b[r.i], what)
}

func (r *Reader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\r', '\n':
			r.i++
		default:
			return
		}
	}
}

// Kind is the first byte of the next value ('{', '[', '"', 't', 'f', 'n', or '-' and '0'-'9'
// for numbers), or 0 at the end of the input or after an error.
func (r *Reader) Kind() byte {
	if r.err != nil {
		return 0
	}
	r.ws()
	if r.i >= len(r.b) {
		return 0
	}
	switch c := r.b[r.i]; c {
	case '{', '[', '"', 't', 'f', 'n':
		return c
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return '-'
		}
		return c
	}
}

// Null consumes a null and reports whether there was one.
func (r *Reader) Null() bool {
	if r.Kind() == 'n' {
		return r.lit("null") == nil
	}
	return false
}

func (r *Reader) lit(s string) error {
	if len(r.b)-r.i >= len(s) && string(r.b[r.i:r.i+len(s)]) == s {
		r.i += len(s)
		return nil
	}
	return r.syntax("literal " + s)
}

func (r *Reader) open(c byte) error {
	if r.Kind() != c {
		return r.syntax(string(c))
	}
	if r.depth++; r.depth > maxDepth {
		return r.fail("exceeded max depth")
	}
	r.i++
	return nil
}

// BeginObject consumes '{'. Then call NextKey until it reports false.
func (r *Reader) BeginObject() error { return r.open('{') }

// BeginArray consumes '['. Then call NextElem until it reports false.
func (r *Reader) BeginArray() error { return r.open('[') }

// more is the member separator logic shared by objects and arrays: first tells whether no
// member was read yet.
func (r *Reader) more(closer byte, first bool) bool {
	if r.err != nil {
		return false
	}
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == closer { // "[1,]" never gets here: NextElem refuses it
		r.i++
		r.depth--
		return false
	}
	if !first {
		if r.i >= len(r.b) || r.b[r.i] != ',' {
			r.syntax("',' or '" + string(closer) + "'")
			return false
		}
		r.i++
		r.ws()
	}
	return true
}

// NextElem reports whether the array has another element (positioned to read it); first must be
// true before the first element only.
func (r *Reader) NextElem(first bool) bool {
	if !r.more(']', first) {
		return false
	}
	if r.Kind() == 0 || r.b[r.i] == ']' {
		r.syntax("a value")
		return false
	}
	return true
}

// NextKey returns the next key of the object (unescaped; valid until the next call) and
// consumes the colon after it, or reports false at the object's end or on an error; first must
// be true before the first key only.
func (r *Reader) NextKey(first bool) ([]byte, bool) {
	if !r.more('}', first) {
		return nil, false
	}
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		r.syntax("a string key")
		return nil, false
	}
	body, escaped, ok := r.str()
	if !ok {
		return nil, false
	}
	key := body
	if escaped {
		r.key = appendUnquoted(r.key[:0], body)
		key = r.key
	}
	r.ws()
	if r.i >= len(r.b) || r.b[r.i] != ':' {
		r.syntax("':'")
		return nil, false
	}
	r.i++
	return key, true
}

// str reads a string at r.i (a '"') and returns its body between the quotes, validated, and
// whether it holds escapes.
func (r *Reader) str() (body []byte, escaped, ok bool) {
	r.i++
	start := r.i
	for {
		// Eight bytes a step until a quote, a backslash or a control character.
		for r.i+8 <= len(r.b) {
			w := uint64(r.b[r.i]) | uint64(r.b[r.i+1])<<8 | uint64(r.b[r.i+2])<<16 | uint64(r.b[r.i+3])<<24 |
				uint64(r.b[r.i+4])<<32 | uint64(r.b[r.i+5])<<40 | uint64(r.b[r.i+6])<<48 | uint64(r.b[r.i+7])<<56
			if m := stop(w); m != 0 {
				r.i += bits.TrailingZeros64(m) / 8
				break
			}
			r.i += 8
		}
		for r.i < len(r.b) && !isStop(r.b[r.i]) {
			r.i++
		}
		if r.i >= len(r.b) {
			r.fail("unexpected end of input in a string")
			return nil, false, false
		}
		switch c := r.b[r.i]; {
		case c == '"':
			body = r.b[start:r.i]
			r.i++
			return body, escaped, true
		case c < 0x20:
			r.fail("invalid character %q in a string", c)
			return nil, false, false
		}
		// A backslash.
		escaped = true
		if n := EscapeLen(r.b[r.i:]); n > 0 {
			r.i += n
			continue
		}
		// Not a valid escape: say why.
		if r.i+1 >= len(r.b) {
			r.i++
			r.fail("unexpected end of input in a string escape")
			return nil, false, false
		}
		if r.b[r.i+1] != 'u' {
			r.i++
			r.fail("invalid escape character %q", r.b[r.i])
			return nil, false, false
		}
		if r.i+6 > len(r.b) {
			r.i = len(r.b)
			r.fail("unexpected end of input in a \\u escape")
			return nil, false, false
		}
		for _, h := range r.b[r.i+2 : r.i+6] {
			if hexVal(h) < 0 {
				r.fail("invalid character %q in a \\u escape", h)
				return nil, false, false
			}
		}
		r.fail("invalid \\u escape") // not reached: EscapeLen takes every valid one
		return nil, false, false
	}
}

// EscapeLen is the length of the JSON escape at the start of b (b[0] is a backslash): 2 for \"
// \\ \/ \b \f \n \r \t, 6 for \u and four hex digits, 0 when b does not start with a whole valid
// escape. Readers that scan strings their own way (lakehouse/proxylog) validate escapes with it.
func EscapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) < 6 || !isHex[b[2]] || !isHex[b[3]] || !isHex[b[4]] || !isHex[b[5]] {
			return 0
		}
		return 6
	}
	return 0
}

// stop marks (high bit) the bytes of w that end a plain run in a string: '"', '\\' or a control
// character. Only "any mark" is exact (a borrow may mark a byte above a real one); str then
// steps byte by byte with isStop.
func stop(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := w ^ (ones * '"')
	b := w ^ (ones * '\\')
	return ((w-ones*0x20)&^w | (q-ones)&^q | (b-ones)&^b) & highs
}

func isStop(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }

// isHex marks the hex digits (a table: EscapeLen stays small enough to inline).
var isHex = func() (t [256]bool) {
	for _, c := range []byte("0123456789abcdefABCDEF") {
		t[c] = true
	}
	return t
}()

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// u4 decodes the four hex digits after a validated "\u".
func u4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

// appendUnquoted appends the text of a validated string body as encoding/json decodes it:
// escapes resolved, a surrogate pair joined, a lone surrogate and each byte of invalid UTF-8
// replaced by U+FFFD.
func appendUnquoted(dst, body []byte) []byte {
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '\\':
			switch e := body[i+1]; e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := u4(body[i+2:])
				i += 6
				if utf16.IsSurrogate(rr) {
					if i+6 <= len(body) && body[i] == '\\' && body[i+1] == 'u' {
						if dec := utf16.DecodeRune(rr, u4(body[i+2:])); dec != utf8.RuneError {
							dst = utf8.AppendRune(dst, dec)
							i += 6
							continue
						}
					}
					rr = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			j := i + 1
			for j < len(body) && body[j] < utf8.RuneSelf && body[j] != '\\' {
				j++
			}
			dst = append(dst, body[i:j]...)
			i = j
		default:
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, body[i:i+size]...)
			}
			i += size
		}
	}
	return dst
}

// needsUnquote reports whether a string body without escapes still differs from its text: it
// holds invalid UTF-8.
func needsUnquote(body []byte) bool {
	for i := 0; i < len(body); {
		if body[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && size == 1 {
			return true
		}
		i += size
	}
	return false
}

// StringBytes reads a string value and returns its text: the input's own bytes when it needs no
// unescaping, else the Reader's scratch, valid until the next StringBytes. field names the value
// in a type error.
func (r *Reader) StringBytes(field string) ([]byte, error) {
	if r.Kind() != '"' {
		return nil, r.typeErr(field, "string")
	}
	body, escaped, ok := r.str()
	if !ok {
		return nil, r.err
	}
	if escaped || needsUnquote(body) {
		r.text = appendUnquoted(r.text[:0], body)
		return r.text, nil
	}
	return body, nil
}

// String reads a string value into a new Go string.
func (r *Reader) String(field string) (string, error) {
	b, err := r.StringBytes(field)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// WrongType skips the next value and reports it as the wrong type for field (want names the
// type expected): for a caller whose field takes no value of that kind.
func (r *Reader) WrongType(field, want string) error { return r.typeErr(field, want) }

// typeErr reports a value of the wrong type for field, after skipping it (so the error names
// the value's kind correctly even for a syntax error in it).
func (r *Reader) typeErr(field, want string) error {
	if r.err != nil {
		return r.err
	}
	k := r.Kind()
	if err := r.Skip(); err != nil {
		return err
	}
	return r.fail("cannot decode a JSON %s into %s (%s)", kindName(k), field, want)
}

func kindName(k byte) string {
	switch k {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	case '-':
		return "number"
	}
	return "value"
}

// number reads a number's bytes, validated against JSON's grammar.
func (r *Reader) number() ([]byte, error) {
	start := r.i
	end, want := numberEnd(r.b, r.i)
	r.i = end
	if want != "" {
		return nil, r.syntax(want)
	}
	return r.b[start:end], nil
}

// numberEnd reads JSON's number grammar, -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, from
// b[i:]: the index after the number, or where it went wrong and what was wanted there.
func numberEnd(b []byte, i int) (end int, want string) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digitsFrom(b, i)
	default:
		return i, "a digit"
	}
	if i < len(b) && b[i] == '.' {
		d := i + 1
		if i = digitsFrom(b, d); i == d {
			return i, "a digit after '.'"
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		if i = digitsFrom(b, d); i == d {
			return i, "a digit in the exponent"
		}
	}
	return i, ""
}

// IsNumber reports whether b is exactly one number as JSON writes them (strconv.ParseFloat takes
// more: +1, .5, 1., 01, Inf).
func IsNumber(b []byte) bool {
	end, want := numberEnd(b, 0)
	return want == "" && end == len(b)
}

// clip keeps an error message short whatever the input: a number can be megabytes of digits.
func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// digitsFrom is the index after the run of digits that starts at b[i].
func digitsFrom(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// Int64 reads an integer as encoding/json decodes a number into an int64: no fraction, no
// exponent, within range.
func (r *Reader) Int64(field string) (int64, error) {
	if r.Kind() != '-' {
		return 0, r.typeErr(field, "integer")
	}
	num, err := r.number()
	if err != nil {
		return 0, err
	}
	// Up to 18 digits cannot overflow: the common case needs no strconv.
	neg := num[0] == '-'
	digits := num
	if neg {
		digits = num[1:]
	}
	if len(digits) <= 18 {
		var v int64
		for _, c := range digits {
			if c < '0' || c > '9' {
				return 0, r.fail("cannot decode number %s into %s (integer)", clip(num), field)
			}
			v = v*10 + int64(c-'0')
		}
		if neg {
			v = -v
		}
		return v, nil
	}
	v, perr := strconv.ParseInt(unsafe.String(&num[0], len(num)), 10, 64)
	if perr != nil {
		return 0, r.fail("cannot decode number %s into %s (integer)", clip(num), field)
	}
	return v, nil
}

// Float64 reads a number as encoding/json decodes it into a float64 (out of range fails).
func (r *Reader) Float64(field string) (float64, error) {
	if r.Kind() != '-' {
		return 0, r.typeErr(field, "number")
	}
	num, err := r.number()
	if err != nil {
		return 0, err
	}
	v, perr := strconv.ParseFloat(unsafe.String(&num[0], len(num)), 64)
	if perr != nil {
		return 0, r.fail("cannot decode number %s into %s", clip(num), field)
	}
	return v, nil
}

// Bool reads true or false.
func (r *Reader) Bool(field string) (bool, error) {
	switch r.Kind() {
	case 't':
		return true, r.lit("true")
	case 'f':
		return false, r.lit("false")
	}
	return false, r.typeErr(field, "bool")
}

// Raw reads any value and returns its bytes as they are in the input.
func (r *Reader) Raw() ([]byte, error) {
	r.ws()
	start := r.i
	if err := r.Skip(); err != nil {
		return nil, err
	}
	return r.b[start:r.i], nil
}

// Skip reads one value of any kind, validating it.
func (r *Reader) Skip() error {
	switch r.Kind() {
	case 0:
		if r.err != nil {
			return r.err
		}
		return r.syntax("a value")
	case '"':
		_, _, ok := r.str()
		if !ok {
			return r.err
		}
		return nil
	case 't':
		return r.lit("true")
	case 'f':
		return r.lit("false")
	case 'n':
		return r.lit("null")
	case '-':
		_, err := r.number()
		return err
	case '{':
		r.BeginObject()
		for first := true; ; first = false {
			if _, ok := r.NextKey(first); !ok {
				break
			}
			if err := r.Skip(); err != nil {
				return err
			}
		}
		return r.err
	case '[':
		r.BeginArray()
		for first := true; r.NextElem(first); first = false {
			if err := r.Skip(); err != nil {
				return err
			}
		}
		return r.err
	default:
		return r.syntax("a value")
	}
}

// End checks that only whitespace follows the value read.
func (r *Reader) End() error {
	if r.err != nil {
		return r.err
	}
	r.ws()
	if r.i < len(r.b) {
		return r.syntax("the end of the input")
	}
	return nil
}

// KeyIs reports whether key names field as encoding/json matches it: exactly, or else with
// Unicode case folding (encoding/json's fallback).
func KeyIs(key []byte, field string) bool {
	return string(key) == field || bytes.EqualFold(key, unsafe.Slice(unsafe.StringData(field), len(field)))
}
