package sqlclass

import "strings"

// The lexer follows the servers' own lexers where they decide what is code and what is not:
//
//   - '...' strings; "..." strings, or identifiers under ANSI_QUOTES; `...` identifiers. Doubled
//     quotes escape a quote; a backslash escapes the next byte in strings unless
//     NO_BACKSLASH_ESCAPES is set (never in identifiers).
//   - "#" to the end of the line; "/* ... */"; "-- " where MySQL and MariaDB want white space or
//     a control character (or the end of the text) after the two dashes, and StarRocks does not.
//   - "/*!" and "/*!NNNNN" (MySQL, MariaDB) and "/*M!" / "/*M!NNNNNN" (MariaDB) executable
//     comments: their body is SQL when the server's version is at least NNNNN, else a comment.
//   - "/*+ ... */" optimizer hints: comments as far as what a statement does is concerned.
//
// Which quoting mode and which server version the statement meets is not known where srctl
// classifies it (a session can change sql_mode, the proxy does not know the shadow's version), so
// callers lex under every reading the text allows (see readings) and keep the worst result.

// tokKind is a token's kind.
type tokKind uint8

const (
	tokWord      tokKind = iota // keyword or unquoted identifier
	tokIdent                    // `quoted` identifier (or "quoted" under ANSI_QUOTES)
	tokString                   // string literal
	tokNumber                   // number literal
	tokUserVar                  // @name, @'name', @`name`
	tokSysVar                   // @@ (the variable's scope and name follow as words)
	tokPunct                    // one character, or ":="
	tokSemicolon                // statement separator
)

type token struct {
	kind tokKind
	text string // the source text (for strings and identifiers, without the quotes)
}

// is reports whether t is the word w (ASCII case-insensitive; w is lower case).
func (t token) is(w string) bool {
	return t.kind == tokWord && equalFoldASCII(t.text, w)
}

// named reports whether t is w as a word or as a quoted identifier.
func (t token) named(w string) bool {
	return (t.kind == tokWord || t.kind == tokIdent) && equalFoldASCII(t.text, w)
}

func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// reading is one way the server may read the text.
type reading struct {
	noBackslashEscapes bool // sql_mode NO_BACKSLASH_ESCAPES
	ansiQuotes         bool // sql_mode ANSI_QUOTES: "..." is an identifier
	looseDashComment   bool // StarRocks: "--" starts a comment without white space after it
	mariaDB            bool // /*M! bodies are SQL (MariaDB), else comments (MySQL)
	version            int  // server version as in /*!NNNNN: bodies with a higher number are comments
}

// errLex is a text the lexer cannot read to its end the way the server would.
type errLex string

func (e errLex) Error() string { return string(e) }

const (
	errUnterminatedString  errLex = "a string or quoted name is not closed"
	errUnterminatedComment errLex = "a comment is not closed"
	errNestedComment       errLex = "a comment inside an executable comment"
)

// lex appends the tokens of sql under reading r to toks.
func lex(sql string, r reading, toks []token) ([]token, error) {
	inExec := false // inside an executable comment whose body is SQL
	s := sql
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '#':
			i = skipLine(s, i)
		case c == '-' && i+1 < len(s) && s[i+1] == '-' && (r.looseDashComment || i+2 == len(s) || isSpaceOrControl(s[i+2])):
			i = skipLine(s, i)
		case c == '*' && inExec && i+1 < len(s) && s[i+1] == '/':
			inExec = false
			i += 2
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			if inExec {
				return toks, errNestedComment
			}
			body, exec := openComment(s, i, r)
			if exec {
				inExec = true
				i = body
				continue
			}
			end := strings.Index(s[body:], "*/")
			if end < 0 {
				return toks, errUnterminatedComment
			}
			i = body + end + 2
		case c == '\'' || c == '"' && !r.ansiQuotes:
			end, err := skipQuoted(s, i, c, !r.noBackslashEscapes)
			if err != nil {
				return toks, err
			}
			toks = append(toks, token{tokString, s[i+1 : end-1]})
			i = end
		case c == '`' || c == '"' && r.ansiQuotes:
			end, err := skipQuoted(s, i, c, false)
			if err != nil {
				return toks, err
			}
			toks = append(toks, token{tokIdent, s[i+1 : end-1]})
			i = end
		case c == '@':
			if i+1 < len(s) && s[i+1] == '@' {
				toks = append(toks, token{tokSysVar, "@@"})
				i += 2
				continue
			}
			j := i + 1
			if j < len(s) && (s[j] == '\'' || s[j] == '"' || s[j] == '`') {
				end, err := skipQuoted(s, j, s[j], s[j] != '`' && !r.noBackslashEscapes)
				if err != nil {
					return toks, err
				}
				j = end
			} else {
				for j < len(s) && (isWordByte(s[j]) || s[j] == '.') {
					j++
				}
			}
			toks = append(toks, token{tokUserVar, s[i:j]})
			i = j
		case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			j := i
			for j < len(s) && (isWordByte(s[j]) || s[j] == '.') {
				j++ // 1.5, 0x1F, 1e5 (1e-5 lexes as 1e, -, 5: the same words either way)
			}
			toks = append(toks, token{tokNumber, s[i:j]})
			i = j
		case isWordByte(c):
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, token{tokWord, s[i:j]})
			i = j
		case c == ';':
			toks = append(toks, token{tokSemicolon, ";"})
			i++
		case c == ':' && i+1 < len(s) && s[i+1] == '=':
			toks = append(toks, token{tokPunct, ":="})
			i += 2
		default:
			toks = append(toks, token{tokPunct, s[i : i+1]})
			i++
		}
	}
	if inExec {
		return toks, errUnterminatedComment
	}
	return toks, nil
}

// execComment reads the opening of a comment at s[i] ("/*"): whether it is executable ("/*!",
// or MariaDB's "/*M!"), the server version it names (0 when none) and where its body starts.
func execComment(s string, i int) (body int, exec, mariaOnly bool, version int) {
	j := i + 2
	switch {
	case j < len(s) && s[j] == '!':
		j++
	case j+1 < len(s) && s[j] == 'M' && s[j+1] == '!':
		mariaOnly = true
		j += 2
	default:
		return j, false, false, 0 // plain comment or /*+ hint
	}
	start := j
	for j < len(s) && isDigit(s[j]) && j-start < 6 {
		j++
	}
	if n := j - start; n != 5 && n != 6 {
		return start, true, mariaOnly, 0 // not a version number: the digits are SQL
	}
	for _, d := range s[start:j] {
		version = version*10 + int(d-'0')
	}
	return j, true, mariaOnly, version
}

// openComment reads the opening of a comment at s[i]: where its body starts and whether the
// body is SQL under reading r.
func openComment(s string, i int, r reading) (body int, sql bool) {
	body, exec, mariaOnly, version := execComment(s, i)
	return body, exec && !(mariaOnly && !r.mariaDB) && version <= r.version
}

// skipQuoted returns the index after the quoted text opening at s[i] with quote q.
func skipQuoted(s string, i int, q byte, backslash bool) (int, error) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	return 0, errUnterminatedString
}

func skipLine(s string, i int) int {
	for i < len(s) && s[i] != '\n' {
		i++
	}
	return i
}

// isSpaceOrControl is MySQL's test for the byte after "--": white space or a control character.
func isSpaceOrControl(c byte) bool { return c <= ' ' || c == 0x7f }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isWordByte: letters, digits, '_', '$' and every byte of a multi-byte UTF-8 character, as in
// MySQL's unquoted identifiers.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '_' || c == '$' || c >= 0x80
}
