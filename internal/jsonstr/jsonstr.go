// Package jsonstr appends Go strings (and floats and times) as JSON, byte for byte as encoding/json
// does (with HTML escaping off, json.Encoder.SetEscapeHTML(false), or on, json.Marshal's
// default): 16 or 32 bytes at a time with vector instructions on amd64, where nothing but
// newlines needs escaping (copy_amd64.s), eight at a time elsewhere. The collector writes every
// profile text (tens of KB, hundreds of MB/s) into its journal this way; srctl shadow writes its
// log rows so, HTML-escaped as the Go proxy whose logs it matches.
package jsonstr

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// word loads s[i:i+8] little-endian; the compiler turns it into one load.
func word(s string, i int) uint64 {
	b := s[i : i+8] // one bounds check; with constant indices below the loads merge
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// special is non-zero when a byte of w needs a look: below 0x20, '"', '\\' or not ASCII. (Only
// "any" is exact: a borrow may mark a byte above a marked one, which costs a slower step, never
// a wrong byte.)
func special(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := w ^ (ones * '"')
	b := w ^ (ones * '\\')
	return ((w-ones*0x20)&^w | (q-ones)&^q | (b-ones)&^b | w) & highs
}

// html is non-zero when a byte of w is '<', '>' or '&' (the same "any" exactness as special).
func html(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	l := w ^ (ones * '<')
	g := w ^ (ones * '>')
	a := w ^ (ones * '&')
	return ((l-ones)&^l | (g-ones)&^g | (a-ones)&^a) & highs
}

// AppendString appends s to dst as a quoted JSON string, as encoding/json encodes a string with
// HTML escaping off: \" \\ \n \r \t \b \f, \u00XX for the other control characters, \ufffd for
// each byte of invalid UTF-8, \u2028 and \u2029 escaped; everything else as is.
func AppendString(dst []byte, s string) []byte { return appendString(dst, s, false) }

// AppendStringHTML is AppendString with '<', '>' and '&' escaped too (\u003c, \u003e, \u0026),
// as json.Marshal does by default.
func AppendStringHTML(dst []byte, s string) []byte { return appendString(dst, s, true) }

func appendString(dst []byte, s string, escapeHTML bool) []byte {
	dst = append(dst, '"')
	// The bytes are copied a word at a time as they are scanned, into room made ahead: a memmove
	// call per run of plain bytes (a profile's every line, which ends in an escaped newline) cost
	// more than the scan. Invariant: buf has room for the rest of s as is, a word's overrun and
	// the closing quote; an escape makes room for its own growth first.
	dst = slices.Grow(dst, len(s)+slack)
	buf, n := dst[:cap(dst)], len(dst)
	i := 0
	for i < len(s) {
		if len(s)-i >= 32 {
			// Runs of plain bytes and newlines, a block per instruction (copy_amd64.s). The
			// newlines' escapes used room kept for the rest of s: make it again.
			read, written := copyPlain(buf[n:], s[i:], escapeHTML)
			i, n = i+read, n+written
			buf = room(buf, n, len(s)-i+slack)
		}
		for i+8 <= len(s) {
			w := word(s, i)
			m := special(w)
			if escapeHTML {
				m |= html(w)
			}
			binary.LittleEndian.PutUint64(buf[n:n+8], w) // whole, even when only its start is plain
			if m != 0 {
				// The lowest mark is exact: go straight to that byte.
				k := bits.TrailingZeros64(m) >> 3
				i, n = i+k, n+k
				break
			}
			i, n = i+8, n+8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!escapeHTML || (c != '<' && c != '>' && c != '&')) {
				buf[n] = c
				i, n = i+1, n+1
				continue
			}
			buf = room(buf, n, len(s)-i+slack+6)
			switch c {
			case '"', '\\':
				buf[n], buf[n+1] = '\\', c
				n += 2
			case '\n':
				buf[n], buf[n+1] = '\\', 'n'
				n += 2
			case '\r':
				buf[n], buf[n+1] = '\\', 'r'
				n += 2
			case '\t':
				buf[n], buf[n+1] = '\\', 't'
				n += 2
			case '\b':
				buf[n], buf[n+1] = '\\', 'b'
				n += 2
			case '\f':
				buf[n], buf[n+1] = '\\', 'f'
				n += 2
			default:
				n += copy(buf[n:], []byte{'\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf]})
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = room(buf, n, len(s)-i+slack+6)
			n += copy(buf[n:], `\ufffd`)
		case r == '\u2028' || r == '\u2029':
			buf = room(buf, n, len(s)-i+slack+6)
			n += copy(buf[n:], []byte{'\\', 'u', '2', '0', '2', hexDigits[r&0xf]})
		default:
			n += copy(buf[n:], s[i:i+size])
		}
		i += size
	}
	buf[n] = '"'
	return buf[:n+1]
}

// room returns buf (its first n bytes kept, at full length) with at least more bytes after them:
// buf itself when it has them.
func room(buf []byte, n, more int) []byte {
	if cap(buf)-n >= more {
		return buf
	}
	buf = slices.Grow(buf[:n], more)
	return buf[:cap(buf)]
}

// slack is the room appendString keeps beyond the rest of the string: a whole word stored where
// fewer of its bytes are kept, and the closing quote.
const slack = 8 + 1

// AppendFloat appends f as encoding/json writes a float64: the shortest representation that
// reads back the same, in exponent form outside [1e-6, 1e21) ("1e-7", not "1e-07"). ok is false
// for NaN and the infinities, which encoding/json refuses (nothing is appended).
func AppendFloat(dst []byte, f float64) (_ []byte, ok bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' { // e-09 -> e-9, as encoding/json does
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

// AppendTime appends t quoted, as encoding/json writes a time.Time (its MarshalJSON: RFC 3339
// with nanoseconds), and refuses what MarshalJSON refuses: a year outside [0,9999] or a zone
// offset of 24 hours or more, which RFC 3339 cannot write. On error dst is returned unchanged.
func AppendTime(dst []byte, t time.Time) ([]byte, error) {
	n0 := len(dst)
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	s := dst[n0+1:]
	switch {
	case len(s) <= len("9999") || s[len("9999")] != '-': // the year must be exactly 4 digits
		return dst[:n0], fmt.Errorf("time %s: year outside of range [0,9999]", s)
	case s[len(s)-1] != 'Z':
		c := s[len(s)-len("Z07:00")]
		if '0' <= c && c <= '9' || 10*(s[len(s)-5]-'0')+(s[len(s)-4]-'0') >= 24 {
			return dst[:n0], fmt.Errorf("time %s: timezone hour outside of range [0,23]", s)
		}
	}
	return append(dst, '"'), nil
}
