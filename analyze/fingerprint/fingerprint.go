// Package fingerprint reduces SQL text to a literal-free class and reads the endpoint tags that
// applications put in SQL comments (sqlcommenter, Rails Marginalia).
//
// Fingerprint follows ../shared/starrocks/README.md section 5: comments are stripped (sqlcommenter
// tags often carry a traceparent that makes every text unique), string and number literals become
// ?, IN (...) and VALUES (...) lists collapse, whitespace collapses, and text outside quoted
// identifiers is lowercased. It is a lexer, not a parser: it never fails, whatever the input.
package fingerprint

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// QueryHash is the lowercase hex MD5 of the exact SQL bytes: the join key of the existing
// shadow proxy and collector, kept byte-compatible.
func QueryHash(sql string) string {
	if sql == "" {
		return ""
	}
	// The text's own bytes, not a copy: md5 only reads them (the collector hashes every query).
	sum := md5.Sum(unsafe.Slice(unsafe.StringData(sql), len(sql)))
	var out [2 * md5.Size]byte // on the stack: the string is the only allocation
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// Hash is the hex MD5 of a fingerprint (empty for an empty fingerprint).
func Hash(fp string) string { return QueryHash(fp) }

type tokKind int

const (
	tokWord tokKind = iota // keywords and identifiers
	tokQuotedIdent
	tokLiteral // already replaced by ?
	tokPunct
)

type token struct {
	kind tokKind
	text string
}

// Fingerprint returns the literal-free class of sql.
func Fingerprint(sql string) string {
	toks := lex(sql)
	toks = collapseLists(toks)
	var b strings.Builder
	b.Grow(len(sql))
	for i, t := range toks {
		if i > 0 && needSpace(toks[i-1], t) {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}

func needSpace(prev, cur token) bool {
	switch {
	case cur.text == "," || cur.text == ")" || cur.text == ";" || cur.text == ".":
		return false
	case prev.text == "(" || prev.text == ".":
		return false
	case cur.text == "(":
		return prev.kind != tokWord || isKeyword(prev.text)
	}
	return true
}

// isKeyword is the short list of words after which "(" is not a function call; it only affects
// spacing, so it need not be complete.
func isKeyword(w string) bool {
	switch w {
	case "in", "values", "and", "or", "not", "exists", "from", "join", "on", "where", "select", "as", "with", "when", "then", "else", "by", "over", "using", "into", "union", "all", "any", "some", "like", "between", "is", "case":
		return true
	}
	return false
}

// lex tokenises s. Lower-cased words are cut from one buffer per call (lowered), not
// allocated one by one: upper-case keywords are the rule in application SQL, and the collector
// fingerprints every query it collects.
func lex(s string) []token {
	toks := make([]token, 0, len(s)/6+4)
	var lowered []byte // bytes already handed out as token text are never written again
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-', c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				i = len(s)
			} else {
				i += 2 + end + 2
			}
		case c == '\'' || c == '"':
			i = skipQuoted(s, i, c)
			toks = appendLiteral(toks)
		case c == '`':
			j := skipQuoted(s, i, '`')
			toks = append(toks, token{tokQuotedIdent, s[i:j]})
			i = j
		case isDigit(c) || (c == '.' && i+1 < len(s) && isDigit(s[i+1])):
			i = skipNumber(s, i)
			// A sign directly before a number that follows an operator or "(" belongs to it.
			if n := len(toks); n > 0 && (toks[n-1].text == "-" || toks[n-1].text == "+") && (n == 1 || toks[n-2].kind == tokPunct && toks[n-2].text != ")") {
				toks = toks[:n-1]
			}
			toks = appendLiteral(toks)
		case isWordStart(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			w := s[i:j]
			if hasUpper(w) {
				if lowered == nil {
					lowered = make([]byte, 0, len(s))
				}
				start := len(lowered)
				lowered = appendLower(lowered, w)
				w = unsafe.String(&lowered[start], len(lowered)-start)
			}
			i = j
			if w == "true" || w == "false" {
				toks = appendLiteral(toks)
				continue
			}
			toks = append(toks, token{tokWord, w})
		default:
			// Multi-byte operators are kept whole so "a<=?" and "a <= ?" agree.
			j := i + 1
			if j < len(s) && strings.Contains("<>=!|&:", string(c)) && strings.Contains("<>=|&:", string(s[j])) {
				j++
			}
			toks = append(toks, token{tokPunct, s[i:j]})
			i = j
		}
	}
	return toks
}

func appendLiteral(toks []token) []token { return append(toks, token{tokLiteral, "?"}) }

func skipQuoted(s string, i int, q byte) int {
	j := i + 1
	for j < len(s) {
		switch {
		case s[j] == '\\' && q != '`':
			j += 2
		case s[j] == q && j+1 < len(s) && s[j+1] == q: // doubled quote
			j += 2
		case s[j] == q:
			return j + 1
		default:
			j++
		}
	}
	return len(s)
}

func skipNumber(s string, i int) int {
	if s[i] == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X' || s[i+1] == 'b' || s[i+1] == 'B') {
		j := i + 2
		for j < len(s) && isHex(s[j]) {
			j++
		}
		return j
	}
	j := i
	for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
		j++
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	// An identifier that starts with digits (t1_2024) is a word, not a number.
	if j < len(s) && isWordByte(s[j]) {
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
	}
	return j
}

// collapseLists turns "( ? , ? , ... )" into "(?+)" and repeated "(?+), (?+)" after VALUES into one.
// collapseLists works in place: each step appends at most one token for at least one read, so
// out never overtakes what is still to be read.
func collapseLists(toks []token) []token {
	out := toks[:0]
	for i := 0; i < len(toks); i++ {
		if toks[i].text == "(" {
			j := i + 1
			n := 0
			for j+1 < len(toks) && toks[j].kind == tokLiteral && (toks[j+1].text == "," || toks[j+1].text == ")") {
				n++
				if toks[j+1].text == ")" {
					break
				}
				j += 2
			}
			if n > 0 && j+1 < len(toks) && toks[j+1].text == ")" {
				if isValuesTail(out) {
					continue2 := len(out) >= 2 && out[len(out)-1].text == "," && out[len(out)-2].text == "(?+)"
					if continue2 {
						out = out[:len(out)-1]
						i = j + 1
						continue
					}
				}
				out = append(out, token{tokPunct, "(?+)"})
				i = j + 1
				continue
			}
		}
		out = append(out, toks[i])
	}
	return out
}

// isValuesTail reports whether out ends with "values (?+)," i.e. a further VALUES tuple follows.
func isValuesTail(out []token) bool {
	n := len(out)
	return n >= 3 && out[n-1].text == "," && out[n-2].text == "(?+)" && out[n-3].text == "values"
}

// hasUpper reports whether strings.ToLower would change w.
func hasUpper(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// appendLower appends strings.ToLower(w).
func appendLower(dst []byte, w string) []byte {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			return append(dst, strings.ToLower(w[i:])...) // non-ASCII: Unicode's rules
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
func isWordStart(c byte) bool {
	return c == '_' || c == '$' || c|0x20 >= 'a' && c|0x20 <= 'z' || c >= 0x80 || c == '@'
}
func isWordByte(c byte) bool { return isWordStart(c) || isDigit(c) }

// Token is a lexical token of SQL as the fingerprint sees it: comments dropped, literals
// replaced by "?", keywords and identifiers lower-cased (Word), quoted identifiers and
// punctuation kept as written.
type Token struct {
	Word bool
	Text string
}

// Tokens lexes sql for callers that need its structure rather than its class (statement
// kinds, parenthesis depth, statement separators).
func Tokens(sql string) []Token {
	toks := lex(sql)
	out := make([]Token, len(toks))
	for i, t := range toks {
		out[i] = Token{Word: t.kind == tokWord, Text: t.text}
	}
	return out
}

// Statements splits sql on top-level semicolons (outside quotes and comments), with the quoting
// and comment rules of the fingerprint lexer, and drops statements with no token.
func Statements(sql string) []string {
	var out []string
	add := func(st string) {
		if st = strings.TrimSpace(st); st != "" && len(lex(st)) > 0 {
			out = append(out, st)
		}
	}
	start := 0
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sql, i, c)
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-', c == '#':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			if end := strings.Index(sql[i+2:], "*/"); end >= 0 {
				i += 2 + end + 2
			} else {
				i = len(sql)
			}
		case c == ';':
			add(sql[start:i])
			i++
			start = i
		default:
			i++
		}
	}
	add(sql[start:])
	return out
}
