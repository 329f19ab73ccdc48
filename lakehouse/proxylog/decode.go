// Package proxylog reads shadow-proxy query logs (../shared/FORMATS.md section 1) fast: a
// hand-written decoder that extracts only the keys srctl needs from each JSONL line without
// building a generic JSON value, and a reader that splits files into chunks parsed in parallel.
//
// A line that is not a usable row is reported as a data-quality Issue with its file and line and
// skipped; the read goes on. Nothing in this package aborts on bad input.
package proxylog

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/srctl/srctl/internal/jsonscan"
)

// Target is the cluster a row was sent to.
type Target uint8

// Targets.
const (
	TargetUnknown Target = iota
	Primary
	Shadow
)

func (t Target) String() string {
	switch t {
	case Primary:
		return "primary"
	case Shadow:
		return "shadow"
	}
	return "unknown"
}

// Fields a row can carry, as bits of Row.Has.
const (
	HasTS uint32 = 1 << iota
	HasQueryID
	HasTarget
	HasCommand
	HasQueryText
	HasQueryHash
	HasDuration
	HasBytesSent
	HasBytesRecv
	HasSuccess
	HasError
	HasClientAddr
	HasFiltered
	HasFilterReason
	HasErrorCode
	HasRows
	HasResultHash
	HasResultSetHash
	HasDropped
	HasDropReason
	HasServerMS
)

// required are the keys without which a row cannot be paired or measured.
var required = []struct {
	bit  uint32
	name string
}{{HasQueryID, "query_id"}, {HasTarget, "target"}, {HasCommand, "command"}, {HasDuration, "duration_ms"}}

// Row is one decoded line. Byte slices point into the line and are valid only as long as it is;
// string values are still JSON-escaped when the matching *Escaped flag is set (use Unescape).
type Row struct {
	Has         uint32
	TS          int64 // Unix nanoseconds
	QueryID     []byte
	Target      Target
	Command     []byte
	QueryText   []byte
	TextEscaped bool
	// TextHTMLEscapes says that every escape in QueryText is \u003c, \u003e or \u0026 (how Go's
	// encoder writes <, > and &): the text differs from the SQL in those characters only.
	TextHTMLEscapes bool
	QueryHash       []byte
	DurationMS      float64
	BytesSent       int64
	BytesRecv       int64
	Success         bool
	Error           []byte
	ErrorEscaped    bool
	ClientAddr      []byte
	Filtered        bool
	FilterReason    []byte
	ErrorCode       int64
	Rows            int64
	ResultHash      []byte
	// srctl shadow's: the order-insensitive result hash, and whether (and why) the shadow copy
	// was not executed.
	ResultSetHash []byte
	Dropped       bool
	DropReason    []byte
	// ServerMS is srctl shadow's server-side time: from the first byte of the command written to
	// the target to the last byte of its answer, measured the same way on both targets.
	ServerMS float64
	// UnknownKey is the first key the decoder did not know (kept, not fatal: newer proxies add keys).
	UnknownKey []byte
}

// DecodeError says why a line is not a row. Kind is one of the Issue kinds.
type DecodeError struct {
	Kind string
	Msg  string
}

func (e *DecodeError) Error() string { return e.Msg }

var errTruncated = &DecodeError{KindSyntax, "truncated or invalid JSON"}

// Decode parses one JSONL line into r (reset first). It accepts exactly one JSON object with
// optional surrounding white space. To decode many lines, use a Decoder: this allocates one.
func Decode(line []byte, r *Row) error {
	return new(Decoder).Decode(line, r)
}

// Decoder decodes lines with state that it keeps from line to line: the structural scan's marks
// (one word per 64 bytes of the longest text scanned yet: a line, or what was left of a chunk)
// and the last timestamp's date and hour. The zero value is ready to use; a Decoder is not safe
// for concurrent use.
type Decoder struct {
	marks []uint64
	// byteSearch turns the structural scan off, so that tests hold the two paths to each other.
	byteSearch bool
	hours      hourCache
}

// Decode is the package's Decode with dc's scratch space.
func (dc *Decoder) Decode(line []byte, r *Row) error {
	// Proxy logs are nearly always printable ASCII: one pass proves it, and then neither the
	// UTF-8 check nor the strings' control-character checks need to look again. Where the
	// structural scan is fast, the same pass marks the quotes and backslashes for str.
	if dc.scans() {
		m := dc.scratch(len(line))
		if scanStructure(line, m) {
			return dc.decode(line, m, true, r)
		}
		return dc.decode(line, nil, false, r)
	}
	return dc.decode(line, nil, printableASCII(line), r)
}

// scans says that Decode runs the structural scan (and nextLine can split lines with it).
func (dc *Decoder) scans() bool { return structureScan && !dc.byteSearch }

// scratch returns marks for a text of n bytes.
func (dc *Decoder) scratch(n int) []uint64 {
	words := (n + 63) / 64
	if cap(dc.marks) < words {
		dc.marks = make([]uint64, max(words, 2*cap(dc.marks), 64))
	}
	return dc.marks[:words]
}

// nextLine splits data's first line off as Read's parsers do (up to '\n', without a '\r' right
// before it) and, where the structural scan runs, scans the line in the same pass: when marked
// is true, the line is printable ASCII and decodeMarked decodes it without a second pass. When
// it is false, the caller splits and calls Decode.
func (dc *Decoder) nextLine(data []byte) (line, rest []byte, marked bool) {
	if !dc.scans() {
		return nil, data, false
	}
	n, next, ok := scanLine(data, dc.scratch(len(data)))
	if !ok {
		return nil, data, false
	}
	return data[:n], data[next:], true
}

// decodeMarked is Decode for the line nextLine returned last with marked true: its marks are
// the first words of the scratch space.
func (dc *Decoder) decodeMarked(line []byte, r *Row) error {
	return dc.decode(line, dc.marks[:(len(line)+63)/64], true, r)
}

// decode parses line into r; qb holds the line's quote and backslash marks (nil when it has
// none), printable says that every byte is in 0x20..0x7f.
func (dc *Decoder) decode(line []byte, qb []uint64, printable bool, r *Row) error {
	*r = Row{}
	// Field by field: a composite literal was built in one place on the stack with narrow stores
	// and copied to another with wide loads, which the CPU cannot forward from the stores.
	var d decoder
	d.b, d.hours, d.printable, d.qb = line, &dc.hours, printable, qb
	if !d.printable && !utf8.Valid(line) {
		return &DecodeError{KindUTF8, "invalid UTF-8"}
	}
	i := d.ws(0)
	if !d.is(i, '{') {
		return &DecodeError{KindSyntax, "not a JSON object"}
	}
	i = d.ws(i + 1)
	if d.is(i, '}') {
		return d.finish(i+1, r)
	}
	prev := fieldOther
	for {
		f, next := d.knownKey(d.ws(i), prev)
		var key []byte
		if f == fieldOther {
			k, next2, esc, ok := d.str(next)
			if !ok {
				return errTruncated
			}
			if esc {
				k = Unescape(k)
			}
			if next = d.ws(next2); !d.is(next, ':') {
				return errTruncated
			}
			key, f, next = k, fieldByName[string(k)], next+1
		}
		var err error
		if i = d.ws(next); d.qb != nil && f < fieldCount && stringField[f] && d.is(i, '"') {
			// A string on a marked line, the most common value: read here, sparing the calls
			// through field and str.
			s, next, e, ok := d.strMarked(i + 1)
			if !ok {
				return errTruncated
			}
			if err = d.strValue(f, s, e, r); err != nil {
				return err
			}
			i = next
		} else if i, err = d.field(i, f, key, r); err != nil {
			return err
		}
		prev = f
		if i = d.ws(i); d.is(i, ',') {
			i++
			continue
		}
		if d.is(i, '}') {
			return d.finish(i+1, r)
		}
		return errTruncated
	}
}

func (d *decoder) finish(i int, r *Row) error {
	if d.ws(i) != len(d.b) {
		return &DecodeError{KindSyntax, "trailing data after the JSON object"}
	}
	for _, f := range required {
		if r.Has&f.bit == 0 {
			return &DecodeError{KindMissingField, "missing " + f.name}
		}
	}
	if r.Target == TargetUnknown {
		return &DecodeError{KindBadValue, "target is neither primary nor shadow"}
	}
	return nil
}

// decoder is the state of one line's decoding that does not change while it is decoded. The
// position is not in it: every method takes the index it reads at and returns the one after what
// it read, so that the index stays in a register (as a field, every step of every method stored
// it to memory and the next one loaded it back).
type decoder struct {
	b         []byte
	printable bool // b has no byte below 0x20 or above 0x7f: strings hold no control characters
	// qb marks b's quotes and backslashes (scanStructure) when b is printable and the scan ran;
	// nil otherwise.
	qb    []uint64
	hours *hourCache // the Decoder's
	// otherEscapes says that the last escaped string str read has an escape other than \u003c,
	// \u003e and \u0026.
	otherEscapes bool
}

// printableASCII reports whether every byte of b is in 0x20..0x7f, 32 bytes per step. A byte
// below 0x20 borrows in the subtraction, which sets its high bit (and may set those above it: only
// "any" matters); a byte at or above 0x80 has it set already. No early exit: lines are short and
// nearly always printable, and four independent words per step keep the CPU's units busy.
func printableASCII(b []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	var bad0, bad1, bad2, bad3 uint64
	for len(b) >= 32 {
		w0, w1 := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
		w2, w3 := binary.LittleEndian.Uint64(b[16:]), binary.LittleEndian.Uint64(b[24:])
		bad0 |= w0 - ones*0x20 | w0
		bad1 |= w1 - ones*0x20 | w1
		bad2 |= w2 - ones*0x20 | w2
		bad3 |= w3 - ones*0x20 | w3
		b = b[32:]
	}
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		bad0 |= w - ones*0x20 | w
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 || c >= 0x80 {
			return false
		}
	}
	return (bad0|bad1|bad2|bad3)&highs == 0
}

// ws skips white space from i. Compact JSON has none, and all four white space bytes are <= ' ': one
// compare settles the usual case (ws runs three times per field).
func (d *decoder) ws(i int) int {
	for i < len(d.b) && d.b[i] <= ' ' {
		switch d.b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

func (d *decoder) is(i int, c byte) bool { return i < len(d.b) && d.b[i] == c }

// str reads a JSON string whose opening quote is at i and returns its raw body, the index after
// its closing quote and whether it holds escapes. When it is not one (ok false), next is i if
// there is no opening quote.
func (d *decoder) str(i int) (body []byte, next int, escaped, ok bool) {
	if !d.is(i, '"') {
		return nil, i, false, false
	}
	i++
	if d.qb != nil {
		return d.strMarked(i)
	}
	start := i
	// Keys and most values are short: a SWAR scan of the first words (8 bytes per step, no
	// call) beats the vectorised search, which pays off on long values (the SQL text).
	for end := min(i+32, len(d.b)-8); i <= end; i += 8 {
		w := binary.LittleEndian.Uint64(d.b[i:])
		if m := quoteOrBackslash(w) | control(w); m != 0 {
			i += bits.TrailingZeros64(m) / 8
			switch c := d.b[i]; {
			case c == '\\':
				goto slow
			case c < 0x20:
				return nil, i, false, false // JSON has no raw control characters in strings
			}
			return d.b[start:i], i + 1, false, true
		}
	}
slow:
	// The closing quote is found once; each escape then costs a search for the next backslash
	// before it only. (Searching for the quote again after every escape made strings full of
	// escapes, such as analytic SQL with <, > and & as \u003c..., quadratic.)
	q := -1 // the first '"' at or after i, once known
	for {
		if q < i {
			k := bytes.IndexByte(d.b[i:], '"')
			if k < 0 {
				return nil, i, false, false
			}
			q = i + k
		}
		span := d.b[i:q]
		bs := bytes.IndexByte(span, '\\')
		if bs >= 0 {
			span = span[:bs]
		}
		if !d.printable && hasControl(span) {
			return nil, i, false, false // JSON has no raw control characters in strings
		}
		if bs < 0 {
			return d.b[start:q], q + 1, escaped, true
		}
		if !escaped {
			escaped, d.otherEscapes = true, false
		}
		n := jsonscan.EscapeLen(d.b[i+bs:])
		if n == 0 {
			return nil, i, false, false // not one of JSON's escapes
		}
		if n != 6 || !htmlEscape(d.b[i+bs:]) {
			d.otherEscapes = true
		}
		i += bs + n // past the escape (an escaped quote moves i past q: the quote is searched again)
	}
}

// strMarked is str after the opening quote on a line with quote and backslash marks: each step
// takes the next mark. The line is printable, so the string holds no control character.
//
// The current mark word stays in a register and each step clears its lowest bit: a step then
// waits on one ALU operation, not on a load, a shift and a count as when the word was loaded
// again from the position (each of analytic SQL's ~7 escapes a row paid that chain). The bytes
// at a mark are read off that chain, so the CPU checks them in the shadow of the next step.
func (d *decoder) strMarked(i int) (body []byte, next int, escaped, ok bool) {
	start, qb := i, d.qb
	k := i >> 6
	if k >= len(qb) {
		return nil, i, false, false // no closing quote
	}
	m := qb[k] &^ (1<<(i&63) - 1) // the marks at or after i
	for {
		for m == 0 {
			if k++; k >= len(qb) {
				return nil, len(d.b), false, false // no closing quote
			}
			m = qb[k]
		}
		i = k<<6 | bits.TrailingZeros64(m)
		m &= m - 1
		if d.b[i] == '"' {
			return d.b[start:i], i + 1, escaped, true
		}
		if !escaped {
			escaped, d.otherEscapes = true, false
		}
		if i+8 <= len(d.b) {
			// Go's HTML escapes, most of the escapes in analytic SQL: six bytes, one compare
			// each. Their last five bytes hold no mark, so the next one is m's lowest.
			if w := binary.LittleEndian.Uint64(d.b[i:]) & (1<<48 - 1); w == escLess || w == escGreater || w == escAmp {
				continue
			}
		}
		n := jsonscan.EscapeLen(d.b[i:])
		if n == 0 {
			return nil, i, false, false // not one of JSON's escapes
		}
		if n != 6 || !htmlEscape(d.b[i:]) {
			d.otherEscapes = true
		}
		// Past the escape, and past its marks when it is \\ or \": the marks before i+n go.
		i += n
		if k = i >> 6; k >= len(qb) {
			return nil, i, false, false // no closing quote
		}
		m = qb[k] &^ (1<<(i&63) - 1)
	}
}

// \u003c, \u003e and \u0026 as the six low bytes of a little-endian word.
const (
	escLess    = 0x6333_3030_755c
	escGreater = 0x6533_3030_755c
	escAmp     = 0x3632_3030_755c
)

// htmlEscape reports whether the \u escape at the start of b is \u003c, \u003e or \u0026.
func htmlEscape(b []byte) bool {
	if b[2] != '0' || b[3] != '0' {
		return false
	}
	switch string(b[4:6]) {
	case "3c", "3e", "26":
		return true
	}
	return false
}

// control marks the bytes of w below 0x20 (control characters) with their high bit; as in
// quoteOrBackslash, only the lowest mark is exact.
func control(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	return (w - ones*0x20) &^ w & highs
}

// hasControl reports a byte below 0x20 in b, eight bytes at a time.
func hasControl(b []byte) bool {
	for len(b) >= 32 { // four words per step: one branch for 32 bytes
		if control(binary.LittleEndian.Uint64(b))|control(binary.LittleEndian.Uint64(b[8:]))|
			control(binary.LittleEndian.Uint64(b[16:]))|control(binary.LittleEndian.Uint64(b[24:])) != 0 {
			return true
		}
		b = b[32:]
	}
	for len(b) >= 8 {
		if control(binary.LittleEndian.Uint64(b)) != 0 {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// quoteOrBackslash marks the bytes of w (little-endian) that are '"' or '\\' with their high
// bit. Only the lowest mark is exact (a borrow can mark a byte above it), which is all str needs.
func quoteOrBackslash(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := w ^ (ones * '"')
	b := w ^ (ones * '\\')
	return ((q-ones)&^q | (b-ones)&^b) & highs
}

// Keys the decoder knows, in the order the proxy writes them.
const (
	fieldOther = iota // a key srctl does not read
	fieldTS
	fieldQueryID
	fieldTarget
	fieldCommand
	fieldQueryText
	fieldQueryHash
	fieldDuration
	fieldBytesSent
	fieldBytesRecv
	fieldSuccess
	fieldError
	fieldClientAddr
	fieldFiltered
	fieldFilterReason
	fieldErrorCode
	fieldRows
	fieldResultHash
	fieldResultSetHash
	fieldDropped
	fieldDropReason
	fieldServerMS
	fieldCount
)

var fieldNames = [fieldCount]string{"", "ts", "query_id", "target", "command", "query_text", "query_hash",
	"duration_ms", "bytes_sent", "bytes_recv", "success", "error", "client_addr", "filtered",
	"filter_reason", "error_code", "rows", "result_hash", "result_set_hash", "dropped", "drop_reason", "server_ms"}

// fieldByName maps a key to its field (fieldOther when unknown); keyLits holds each key as
// written by a compact encoder, quotes and colon included, indexed by its first letter.
// fieldKnownIgnored marks keys of the log schema that diff does not read (srctl shadow's
// extra keys): skipped without a data-quality note.
const fieldKnownIgnored = fieldCount + 1

var ignoredKeys = []string{"sql_state", "affected_rows", "started_at", "endpoint", "fingerprint", "role", "conn_id"}

var fieldByName, keyLits, litByField = func() (map[string]int, [256][]keyLit, [fieldCount + 1]keyLit) {
	byName := map[string]int{}
	for _, k := range ignoredKeys {
		byName[k] = fieldKnownIgnored
	}
	var lits [256][]keyLit
	var byField [fieldCount + 1]keyLit // n == 0: no literal (fieldOther, long keys, the end)
	for f := fieldTS; f < fieldCount; f++ {
		name := fieldNames[f]
		byName[name] = f
		if len(name)+3 <= 16 { // longer keys take the general path
			lit := newKeyLit(`"`+name+`":`, f)
			lits[name[0]] = append(lits[name[0]], lit)
			byField[f] = lit
		}
	}
	return byName, lits, byField
}()

// keyLit is a key literal of at most 16 bytes as two masked little-endian words, so that
// matching it costs two loads and compares instead of a call to memequal.
type keyLit struct {
	lo, loMask, hi, hiMask uint64
	n, field               int
}

func newKeyLit(lit string, field int) keyLit {
	var b [16]byte
	if copy(b[:], lit) != len(lit) {
		panic("proxylog: key literal longer than 16 bytes: " + lit)
	}
	mask := func(n int) uint64 {
		if n >= 8 {
			return ^uint64(0)
		}
		return 1<<(8*max(n, 0)) - 1
	}
	return keyLit{lo: binary.LittleEndian.Uint64(b[:8]), loMask: mask(len(lit)), hi: binary.LittleEndian.Uint64(b[8:]),
		hiMask: mask(len(lit) - 8), n: len(lit), field: field}
}

// knownKey reads a known key and its colon when they are written compactly at i (as the proxy's
// encoder does), sparing the scan for the closing quote and the switch on the key, and returns
// the index after the colon; it returns fieldOther and i otherwise, and the caller takes the
// general path.
//
// prev is the field read before (fieldOther at the start): the proxy writes its keys in the
// order of the field constants, so the next one is tried first, one compare that succeeds unless
// an optional key (error, filtered...) is absent, before the keys that share its first letter.
func (d *decoder) knownKey(i, prev int) (f, next int) {
	rest := d.b[i:]
	if len(rest) < 16 {
		return fieldOther, i // near the end of a line: no room for a key and a value anyway
	}
	// The words are loaded before any byte of them is tested: a byte loaded first is reused,
	// and the compiler then builds the word from single bytes instead of one load.
	lo, hi := binary.LittleEndian.Uint64(rest), binary.LittleEndian.Uint64(rest[8:])
	if byte(lo) != '"' {
		return fieldOther, i
	}
	if prev < fieldCount {
		if k := &litByField[prev+1]; k.n != 0 && lo&k.loMask == k.lo && hi&k.hiMask == k.hi {
			return k.field, i + k.n
		}
	}
	lits := keyLits[byte(lo>>8)]
	for j := range lits {
		if k := &lits[j]; lo&k.loMask == k.lo && hi&k.hiMask == k.hi {
			return k.field, i + k.n
		}
	}
	return fieldOther, i
}

// stringField marks the fields whose value is a JSON string (or null).
var stringField = [fieldCount]bool{fieldTS: true, fieldQueryID: true, fieldTarget: true, fieldCommand: true,
	fieldQueryText: true, fieldQueryHash: true, fieldError: true, fieldClientAddr: true, fieldFilterReason: true,
	fieldResultHash: true, fieldResultSetHash: true, fieldDropReason: true}

// field decodes the value at i of key (known as f; key itself is only set for unknown keys) and
// returns the index after it.
func (d *decoder) field(i, f int, key []byte, r *Row) (next int, err error) {
	if f < fieldCount && stringField[f] {
		if next, ok := d.null(i); ok {
			return next, nil
		}
		s, next, e, ok := d.str(i)
		if !ok {
			if d.is(i, '"') {
				return next, errTruncated // an unterminated string: the line was cut
			}
			return i, d.typeErr(i, fieldNames[f], "a string")
		}
		return next, d.strValue(f, s, e, r)
	}
	switch f {
	case fieldDuration:
		v, next, ok := d.num(i)
		if !ok || !(v >= 0 && v <= MaxDurationMS) { // NaN fails both
			return next, d.typeErr(next, "duration_ms", "a duration in milliseconds from 0 to 1e9")
		}
		r.DurationMS, r.Has, i = v, r.Has|HasDuration, next
	case fieldBytesSent:
		return d.intField(i, &r.BytesSent, &r.Has, HasBytesSent, "bytes_sent")
	case fieldBytesRecv:
		return d.intField(i, &r.BytesRecv, &r.Has, HasBytesRecv, "bytes_recv")
	case fieldSuccess:
		return d.boolField(i, &r.Success, &r.Has, HasSuccess, "success")
	case fieldFiltered:
		return d.boolField(i, &r.Filtered, &r.Has, HasFiltered, "filtered")
	case fieldErrorCode:
		return d.intField(i, &r.ErrorCode, &r.Has, HasErrorCode, "error_code")
	case fieldRows:
		return d.intField(i, &r.Rows, &r.Has, HasRows, "rows")
	case fieldDropped:
		return d.boolField(i, &r.Dropped, &r.Has, HasDropped, "dropped")
	case fieldServerMS:
		if next, ok := d.null(i); ok {
			return next, nil
		}
		v, next, ok := d.num(i)
		if !ok || !(v >= 0 && v <= MaxDurationMS) {
			return next, d.typeErr(next, "server_ms", "a duration in milliseconds from 0 to 1e9")
		}
		r.ServerMS, r.Has, i = v, r.Has|HasServerMS, next
	case fieldKnownIgnored:
		next, ok := d.skip(i, 0)
		if !ok {
			return next, errTruncated
		}
		i = next
	default:
		if r.UnknownKey == nil {
			r.UnknownKey = key
		}
		next, ok := d.skip(i, 0)
		if !ok {
			return next, errTruncated
		}
		i = next
	}
	return i, nil
}

// strValue stores the string s (still escaped when escaped is set) read for the string field f.
// The SQL text and the error keep their escapes (a flag says so); the short identifiers are
// unescaped now, so that callers never see escapes in them.
func (d *decoder) strValue(f int, s []byte, escaped bool, r *Row) error {
	switch f {
	case fieldQueryText:
		r.QueryText, r.TextEscaped, r.Has = s, escaped, r.Has|HasQueryText
		r.TextHTMLEscapes = escaped && !d.otherEscapes
		return nil
	case fieldError:
		r.Error, r.ErrorEscaped, r.Has = s, escaped, r.Has|HasError
		return nil
	}
	if escaped {
		s = Unescape(s)
	}
	switch f {
	case fieldTS:
		ns, ok := parseTime(s, d.hours)
		if !ok {
			return &DecodeError{KindBadValue, "ts " + strconv.Quote(string(s)) + " is not RFC 3339"}
		}
		r.TS, r.Has = ns, r.Has|HasTS
	case fieldQueryID:
		r.QueryID, r.Has = s, r.Has|HasQueryID
	case fieldTarget:
		switch string(s) {
		case "primary":
			r.Target = Primary
		case "shadow":
			r.Target = Shadow
		}
		r.Has |= HasTarget
	case fieldCommand:
		r.Command, r.Has = s, r.Has|HasCommand
	case fieldQueryHash:
		r.QueryHash, r.Has = s, r.Has|HasQueryHash
	case fieldClientAddr:
		r.ClientAddr, r.Has = s, r.Has|HasClientAddr
	case fieldFilterReason:
		r.FilterReason, r.Has = s, r.Has|HasFilterReason
	case fieldResultHash:
		r.ResultHash, r.Has = s, r.Has|HasResultHash
	case fieldResultSetHash:
		r.ResultSetHash, r.Has = s, r.Has|HasResultSetHash
	case fieldDropReason:
		r.DropReason, r.Has = s, r.Has|HasDropReason
	}
	return nil
}

// MaxDurationMS is the largest duration_ms read (about 11.6 days): no query runs longer, and
// larger values (1e308) overflow the sums and float32 quantiles they feed.
const MaxDurationMS = 1e9

func (d *decoder) typeErr(i int, key, want string) error {
	if i >= len(d.b) {
		return errTruncated
	}
	return &DecodeError{KindBadValue, key + " is not " + want}
}

// null consumes a JSON null (an absent value for every field).
func (d *decoder) null(i int) (next int, ok bool) {
	if len(d.b)-i >= 4 && string(d.b[i:i+4]) == "null" {
		return i + 4, true
	}
	return i, false
}

func (d *decoder) intField(i int, dst *int64, has *uint32, bit uint32, key string) (next int, err error) {
	if next, ok := d.null(i); ok {
		return next, nil
	}
	v, next, ok := d.num(i)
	if !ok || v != math.Trunc(v) || math.Abs(v) > 1<<62 {
		return next, d.typeErr(next, key, "an integer")
	}
	*dst, *has = int64(v), *has|bit
	return next, nil
}

func (d *decoder) boolField(i int, dst *bool, has *uint32, bit uint32, key string) (next int, err error) {
	switch {
	case len(d.b)-i >= 4 && string(d.b[i:i+4]) == "true":
		*dst, i = true, i+4
	case len(d.b)-i >= 5 && string(d.b[i:i+5]) == "false":
		*dst, i = false, i+5
	default:
		if next, ok := d.null(i); ok {
			return next, nil
		}
		return i, d.typeErr(i, key, "true or false")
	}
	*has |= bit
	return i, nil
}

// pow10 holds the powers of ten that are exact in float64.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// num reads a JSON number at i and returns the index after the run of number bytes (even when
// they are not a number, for typeErr). Plain decimals with at most 15 significant digits are
// exactly rounded without strconv (an integer below 2^53 divided by an exact power of ten): the
// proxies' usual shapes eight bytes at a time (plainNum), the others byte by byte (numBytes);
// anything else goes through strconv.
func (d *decoder) num(i int) (v float64, next int, ok bool) {
	if v, next, ok := d.plainNum(i); ok {
		return v, next, true
	}
	return d.numBytes(i)
}

// plainNum reads the numbers proxies write, durations and byte counts: 1-7 digits, then
// optionally a dot and 1-7 digits, at most 15 digits in all, without a leading zero, and followed
// by a byte that cannot continue a number. ok is false for anything else (a sign, an exponent,
// more digits, the end of the line within 16 bytes), which numBytes then reads. Each part is
// found and converted eight bytes at a time: the byte loop's branch on every digit mispredicted
// at each number's length, ~3 numbers a row. The value is numBytes' exactly (the same integer
// divided by the same power of ten).
func (d *decoder) plainNum(i int) (v float64, next int, ok bool) {
	if len(d.b)-i < 16 {
		return 0, i, false
	}
	x := binary.LittleEndian.Uint64(d.b[i:]) ^ 0x3030303030303030 // digits to their values
	n := bits.TrailingZeros64(nonDigits(x)) >> 3
	if n == 0 || n == 8 || n > 1 && byte(x) == 0 {
		return 0, i, false
	}
	ip := digitsValue(x, n)
	j := i + n
	if d.b[j] != '.' {
		if numberByte(d.b[j]) {
			return 0, i, false
		}
		return float64(ip), j, true
	}
	y := binary.LittleEndian.Uint64(d.b[j+1:]) ^ 0x3030303030303030 // j+9 <= i+16
	f := bits.TrailingZeros64(nonDigits(y)) >> 3
	if f == 0 || f == 8 || n+f > 15 {
		return 0, i, false
	}
	j += 1 + f
	if d.b[j] == '.' || numberByte(d.b[j]) {
		return 0, i, false
	}
	return float64(ip*pow10Int[f]+digitsValue(y, f)) / pow10[f], j, true
}

// nonDigits marks (high bit) the bytes of x, a word of text XOR '0' in every byte, that were not
// ASCII digits. Only the lowest mark is exact: a byte of 0x8a and more carries into the next.
func nonDigits(x uint64) uint64 {
	return (x + 0x7676767676767676 | x) & 0x8080808080808080
}

// digitsValue is the number written by the n (1..7) digit values in x's low bytes, the first
// digit in the lowest byte: moved to the top of the word (leading zeros below), then pairs,
// quads and octets of digits are combined by three multiplications.
func digitsValue(x uint64, n int) uint64 {
	x <<= 64 - 8*uint(n)
	x = (x & 0x0f0f0f0f0f0f0f0f) * (10<<8 + 1) >> 8
	x = (x & 0x00ff00ff00ff00ff) * (100<<16 + 1) >> 16
	return (x & 0x0000ffff0000ffff) * (10000<<32 + 1) >> 32
}

// numberByte says that c can continue a number's run in numBytes (a digit, an exponent or a
// sign).
func numberByte(c byte) bool {
	return c-'0' <= 9 || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// pow10Int are the powers of ten plainNum scales an integer part by.
var pow10Int = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7}

// numBytes is num byte by byte: every number JSON allows.
func (d *decoder) numBytes(i int) (v float64, next int, ok bool) {
	start := i
	neg := false
	if i < len(d.b) && d.b[i] == '-' {
		neg = true
		i++
	}
	var mant uint64
	digits, frac := 0, 0
	simple := true
	for ; i < len(d.b); i++ {
		c := d.b[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if frac > 0 {
				frac++
			}
		case c == '.' && frac == 0:
			frac = 1
		case c == 'e' || c == 'E' || c == '+' || c == '-':
			simple = false
		default:
			goto end
		}
	}
end:
	if i == start || (neg && i == start+1) {
		return 0, i, false
	}
	if simple {
		// The run is -?D*(.D*)?: JSON also wants digits on both sides of the dot and no leading
		// zero (strconv.ParseFloat would take .5, 1. and 01).
		lead, intDigits := start, digits
		if neg {
			lead++
		}
		if frac > 0 {
			intDigits -= frac - 1
		}
		if intDigits == 0 || frac == 1 || d.b[lead] == '0' && intDigits > 1 {
			return 0, i, false
		}
	} else if !jsonscan.IsNumber(d.b[start:i]) {
		return 0, i, false // ParseFloat takes more than JSON: +1, 1e, .5e1
	}
	if simple && digits <= 15 && (frac == 0 || frac-1 <= 22) {
		v = float64(mant)
		if frac > 1 {
			v /= pow10[frac-1]
		}
		if neg {
			v = -v
		}
		return v, i, true
	}
	v, err := strconv.ParseFloat(unsafe.String(&d.b[start], i-start), 64)
	return v, i, err == nil
}

// skip skips one JSON value of any type at i.
func (d *decoder) skip(i, depth int) (next int, ok bool) {
	if depth > 64 || i >= len(d.b) {
		return i, false
	}
	switch c := d.b[i]; {
	case c == '"':
		_, next, _, ok := d.str(i)
		return next, ok
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		if i = d.ws(i + 1); d.is(i, closer) {
			return i + 1, true
		}
		for {
			i = d.ws(i)
			if c == '{' {
				var ok bool
				if _, i, _, ok = d.str(i); !ok {
					return i, false
				}
				if i = d.ws(i); !d.is(i, ':') {
					return i, false
				}
				i = d.ws(i + 1)
			}
			if i, ok = d.skip(i, depth+1); !ok {
				return i, false
			}
			if i = d.ws(i); d.is(i, ',') {
				i++
				continue
			}
			if d.is(i, closer) {
				return i + 1, true
			}
			return i, false
		}
	case c == 't':
		return d.lit(i, "true")
	case c == 'f':
		return d.lit(i, "false")
	case c == 'n':
		return d.lit(i, "null")
	default:
		_, next, ok := d.num(i)
		return next, ok
	}
}

func (d *decoder) lit(i int, s string) (next int, ok bool) {
	if len(d.b)-i >= len(s) && string(d.b[i:i+len(s)]) == s {
		return i + len(s), true
	}
	return i, false
}

// parseTime parses RFC 3339 timestamps; the UTC form with a Z and up to nine fraction digits
// that the proxy writes takes a hand-written path, anything else time.Parse.
func parseTime(s []byte, hc *hourCache) (int64, bool) {
	if len(s) >= 20 && s[len(s)-1] == 'Z' && s[16] == ':' {
		// The date and hour: a log's rows share them for an hour, so the last ones are kept.
		if !hc.valid || string(s[:14]) != string(hc.prefix[:]) {
			if s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' {
				goto slow
			}
			year, ok1 := digitsN(s[0:4])
			mon, ok2 := digitsN(s[5:7])
			day, ok3 := digitsN(s[8:10])
			hh, ok4 := digitsN(s[11:13])
			if !ok1 || !ok2 || !ok3 || !ok4 || year < 1970 || year >= 2200 || mon < 1 || mon > 12 ||
				day < 1 || day > daysIn(year, mon) || hh >= 24 {
				goto slow
			}
			copy(hc.prefix[:], s)
			hc.base, hc.valid = daysSinceEpoch(year, mon, day)*86400+int64(hh*3600), true
		}
		mm, ok5 := digitsN(s[14:16])
		ss, ok6 := digitsN(s[17:19])
		if ok5 && ok6 && mm < 60 && ss < 60 {
			var nanos int
			rest := s[19 : len(s)-1]
			if len(rest) > 0 {
				if rest[0] != '.' || len(rest) < 2 || len(rest) > 10 {
					goto slow
				}
				n, ok := digitsN(rest[1:])
				if !ok {
					goto slow
				}
				for k := len(rest) - 1; k < 9; k++ {
					n *= 10
				}
				nanos = n
			}
			return (hc.base+int64(mm*60+ss))*1e9 + int64(nanos), true
		}
	}
slow:
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return 0, false
	}
	return t.UnixNano(), true
}

// hourCache is the date and hour of the last timestamp parseTime read: "2026-03-05T17:" and
// its Unix time in seconds.
type hourCache struct {
	prefix [14]byte
	base   int64
	valid  bool
}

// daysSinceEpoch counts the days from 1970-01-01 to a valid proleptic Gregorian date of 1970 or
// later: the civil-calendar arithmetic that time.Date does, without its normalisation and
// location lookups, which showed in the profile at a row per call.
func daysSinceEpoch(year, mon, day int) int64 {
	if mon <= 2 { // count years from March, so that the leap day ends the year
		year--
		mon += 12
	}
	era := year / 400
	yoe := year - era*400                  // [0, 399]
	doy := (153*(mon-3)+2)/5 + day - 1     // [0, 365], from March 1st
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return int64(era*146097+doe) - 719468  // 719468: days from 0000-03-01 to 1970-01-01
}

func daysIn(year, mon int) int {
	switch mon {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func digitsN(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Unescape returns the text of a JSON string body (without quotes). Invalid escapes are kept
// literally: this is for display and classification, never for re-encoding.
func Unescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			out = append(out, c)
			continue
		}
		i++
		switch b[i] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			if i+4 < len(b) {
				if r, err := strconv.ParseUint(string(b[i+1:i+5]), 16, 32); err == nil {
					i += 4
					ru := rune(r)
					if ru >= 0xD800 && ru < 0xDC00 && i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
						if lo, err := strconv.ParseUint(string(b[i+3:i+7]), 16, 32); err == nil && lo >= 0xDC00 && lo < 0xE000 {
							ru = (ru-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
							i += 6
						}
					}
					out = utf8.AppendRune(out, ru)
					continue
				}
			}
			out = append(out, '\\', 'u')
		default: // \" \\ \/
			out = append(out, b[i])
		}
	}
	return out
}
