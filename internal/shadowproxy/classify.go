package shadowproxy

import (
	"strings"

	"github.com/srctl/srctl/analyze/fingerprint"
)

// Kind is what a statement does, as far as mirroring is concerned.
type Kind uint8

const (
	KindRead        Kind = iota // returns data, changes nothing: mirrored by default
	KindState                   // changes only the session (SET, USE, transactions, prepares): always mirrored, so the shadow session stays the client's
	KindWrite                   // changes data or the server: mirrored only with --mirror-writes
	KindLocalInfile             // LOAD DATA LOCAL: never mirrored (the file comes from the client, once)
)

func (k Kind) String() string {
	return [...]string{"read", "state", "write", "load_data_local"}[k]
}

// Statement types, the vocabulary of --include-types and --exclude-types.
var statementTypes = []string{"select", "show", "describe", "explain", "set", "use", "transaction",
	"insert", "update", "delete", "replace", "create", "drop", "alter", "truncate", "load", "call", "other"}

// classify returns the type of the first statement of sql and the kind of the whole text
// (several statements: the most consequential kind among them).
func classify(sql string) (typ string, kind Kind) {
	if strings.IndexByte(sql, ';') < 0 {
		// One statement (the usual case): no need to split, which allocates.
		if skipSpaceAndComments(sql) == "" {
			return "other", KindRead
		}
		return classifyOne(sql)
	}
	kind = KindRead
	first := true
	for _, stmt := range fingerprint.Statements(sql) {
		t, k := classifyOne(stmt)
		if first {
			typ, first = t, false
		}
		if k > kind {
			kind = k
		}
	}
	if first {
		return "other", KindRead // only comments and white space
	}
	return typ, kind
}

func classifyOne(stmt string) (string, Kind) {
	w1, rest := keyword(stmt)
	switch w1 {
	case "select", "values", "table":
		if containsWord(rest, "into") && (containsWord(rest, "outfile") || containsWord(rest, "dumpfile")) {
			return "select", KindWrite
		}
		if containsWord(rest, "for") && containsWord(rest, "update") {
			return "select", KindWrite // takes row locks on the shadow
		}
		return "select", KindRead
	case "with":
		for _, w := range []string{"insert", "update", "delete", "replace"} {
			if containsWord(rest, w) {
				return w, KindWrite
			}
		}
		return "select", KindRead
	case "show":
		return "show", KindRead
	case "desc", "describe":
		return "describe", KindRead
	case "explain":
		if w, _ := keyword(rest); w == "analyze" {
			return "explain", KindWrite // runs the statement
		}
		return "explain", KindRead
	case "set":
		w2, _ := keyword(rest)
		switch w2 {
		case "global", "persist", "persist_only", "password":
			return "set", KindWrite
		}
		if strings.Contains(strings.ToLower(rest), "@@global.") {
			return "set", KindWrite
		}
		return "set", KindState
	case "use":
		return "use", KindState
	case "begin", "start", "commit", "rollback", "savepoint", "release":
		return "transaction", KindState
	case "insert", "update", "delete", "replace", "create", "drop", "alter", "truncate", "call":
		return w1, KindWrite
	case "load":
		if w2, r2 := keyword(rest); w2 == "data" || w2 == "xml" {
			if w3, _ := keyword(r2); w3 == "local" {
				return "load", KindLocalInfile
			}
			if w3, r3 := keyword(r2); w3 == "low_priority" || w3 == "concurrent" {
				if w4, _ := keyword(r3); w4 == "local" {
					return "load", KindLocalInfile
				}
			}
		}
		return "load", KindWrite
	}
	return "other", KindWrite // unknown statements might change something
}

// keyword returns the first word of s (lower case), skipping white space, comments and
// opening parentheses, and the text after it.
func keyword(s string) (string, string) {
	s = skipSpaceAndComments(s)
	for strings.HasPrefix(s, "(") {
		s = skipSpaceAndComments(s[1:])
	}
	i := 0
	for i < len(s) && isWordByte(s[i]) {
		i++
	}
	return strings.ToLower(s[:i]), s[i:]
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func skipSpaceAndComments(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n\f\v")
		switch {
		case strings.HasPrefix(s, "/*!") || strings.HasPrefix(s, "/*M!"):
			// executable comment: its body is SQL; read on inside it
			i := strings.IndexByte(s, '!')
			s = s[i+1:]
			for len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
				s = s[1:]
			}
		case strings.HasPrefix(s, "/*"):
			end := strings.Index(s[2:], "*/")
			if end < 0 {
				return ""
			}
			s = s[end+4:]
		case strings.HasPrefix(s, "--") && (len(s) == 2 || s[2] == ' ' || s[2] == '\t' || s[2] == '\n' || s[2] == '\r'),
			strings.HasPrefix(s, "#"):
			end := strings.IndexByte(s, '\n')
			if end < 0 {
				return ""
			}
			s = s[end+1:]
		default:
			return s
		}
	}
}

// containsWord reports whether word (lower case) occurs in s as a whole word outside quotes.
// It is a heuristic over the statement text, good enough to keep writes off the shadow.
func containsWord(s, word string) bool {
	ls := strings.ToLower(s)
	for i := 0; ; {
		j := strings.Index(ls[i:], word)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(word)
		if (j == 0 || !isWordByte(ls[j-1])) && (end == len(ls) || !isWordByte(ls[end])) {
			return true
		}
		i = j + 1
	}
}
