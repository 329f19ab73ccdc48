// Package sqlclass tells what a MySQL-dialect SQL text does (reads, changes the session, writes,
// or cannot be told), for the two places where srctl must keep writes off a server: srctl
// shadow's mirror (only reads and session state reach the shadow unless --mirror-writes) and
// compare-baseline's read-only guard.
//
// The model is an allowlist that fails closed. A statement is a read or session state only when
// its whole shape is understood: SET STATEMENT ... FOR <stmt> is what <stmt> is, a SET list is
// session state only when every assignment is, BEGIN is a transaction only when nothing follows.
// Everything else is a write or unknown. The text is lexed the way MySQL, MariaDB and StarRocks
// lex it under every reading it allows (quoting modes, executable comments for every server
// version, StarRocks' "--" comments), and the worst result over the readings counts, so that no
// server can read as a write what srctl read as a read.
//
// A grammar parser (vitess', TiDB's) was not used: both follow MySQL 8's grammar and would accept
// or reject MariaDB and StarRocks syntax differently from the server behind the proxy, which is
// the one thing a guard must not do; the question asked here (could this change anything?) needs
// the lexer to be exact and the shapes to be few, not a full grammar.
//
// Limits, by design: a function that writes (a stored function, a UDF) is called from a SELECT
// that looks like a read; the built-in functions with side effects are known and refused.
package sqlclass

import (
	"fmt"
	"strings"
	"sync"
)

// Kind is what a statement does. Kinds are ordered by consequence: several statements, or
// several readings of one text, take the largest.
type Kind uint8

const (
	Read        Kind = iota // returns data, changes nothing
	State                   // changes only the session (SET of session variables, USE, transactions)
	Write                   // changes data, the server, files, locks or other sessions
	Unknown                 // not understood: treated as a write
	LocalInfile             // LOAD DATA LOCAL: the data comes from the client, once
)

func (k Kind) String() string {
	switch k {
	case Read:
		return "read"
	case State:
		return "state"
	case Write:
		return "write"
	case Unknown:
		return "unknown"
	case LocalInfile:
		return "load_data_local"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Types is the vocabulary of statement types (srctl shadow's --include-types/--exclude-types).
var Types = []string{"select", "show", "describe", "explain", "set", "use", "transaction",
	"insert", "update", "delete", "replace", "create", "drop", "alter", "truncate", "load", "call", "other"}

// Class is the classification of a SQL text.
type Class struct {
	Type string // type of the first statement (one of Types); SET STATEMENT ... FOR x has x's type
	Kind Kind   // the largest kind of any statement under any reading of the text
	// ReadOnly reports whether compare-baseline may run the text without --allow-writes: every
	// statement, under every reading, is a read or a SET of session or user variables to
	// literal values.
	ReadOnly bool
	// Statement and Why name the first statement that made Kind larger than Read (or ReadOnly
	// false) and what it does, e.g. "DELETE FROM t" and "DELETE writes".
	Statement string
	Why       string
}

// maxVersions bounds the readings of one text: executable comments for more server versions
// than this make the text Unknown.
const maxVersions = 4

var tokenPool = sync.Pool{New: func() any { s := make([]token, 0, 64); return &s }}

// Classify classifies sql. It never fails: a text it cannot read is Unknown.
func Classify(sql string) Class {
	rs, ok := readings(sql)
	if !ok {
		return Class{Type: "other", Kind: Unknown, Statement: clip(sql),
			Why: fmt.Sprintf("executable comments for more than %d server versions", maxVersions)}
	}
	tp := tokenPool.Get().(*[]token)
	used := 0
	defer func() {
		clear((*tp)[:used]) // the tokens point into sql: do not keep it alive in the pool
		tokenPool.Put(tp)
	}()
	var out Class
	for i, r := range rs {
		toks, err := lex(sql, r, (*tp)[:0])
		*tp, used = toks[:0], max(used, len(toks))
		var c Class
		if err != nil {
			c = Class{Type: "other", Kind: Unknown, Statement: clip(sql), Why: err.Error()}
		} else {
			c = classifyTokens(toks)
		}
		if i == 0 {
			out = c
			continue
		}
		if c.Kind > out.Kind {
			out.Kind, out.Statement, out.Why = c.Kind, c.Statement, c.Why
		}
		if !c.ReadOnly && out.ReadOnly {
			out.ReadOnly, out.Statement, out.Why = false, c.Statement, c.Why
		}
	}
	return out
}

// readings lists the ways a server may read sql; the first is the usual one (default sql_mode,
// the newest server). Only the readings that can differ for this text are listed.
func readings(sql string) ([]reading, bool) {
	base := reading{mariaDB: true, version: 999999}
	rs := []reading{base}
	if strings.IndexByte(sql, '\\') >= 0 {
		rs = vary(rs, func(r *reading) { r.noBackslashEscapes = true })
	}
	if strings.IndexByte(sql, '"') >= 0 {
		rs = vary(rs, func(r *reading) { r.ansiQuotes = true })
	}
	if strings.Contains(sql, "--") {
		rs = vary(rs, func(r *reading) { r.looseDashComment = true })
	}
	if strings.Contains(sql, "/*M!") {
		rs = vary(rs, func(r *reading) { r.mariaDB = false })
	}
	if strings.Contains(sql, "/*!") || strings.Contains(sql, "/*M!") {
		// A server runs the bodies whose version is at most its own: one reading per threshold.
		versions := []int{0}
		for i := strings.Index(sql, "/*"); i >= 0; i = next(sql, i+2, "/*") {
			_, exec, _, v := execComment(sql, i)
			if exec && v > 0 && !containsInt(versions, v) {
				if len(versions) > maxVersions {
					return nil, false
				}
				versions = append(versions, v)
			}
		}
		var all []reading
		for _, r := range rs {
			all = append(all, r) // every body is SQL (version 999999)
			for _, v := range versions {
				r.version = v
				all = append(all, r)
			}
		}
		rs = all
	}
	return rs, true
}

// next is the index of sub in s at or after from, or -1.
func next(s string, from int, sub string) int {
	if i := strings.Index(s[from:], sub); i >= 0 {
		return from + i
	}
	return -1
}

func vary(rs []reading, f func(*reading)) []reading {
	for _, r := range rs[:len(rs):len(rs)] {
		f(&r)
		rs = append(rs, r)
	}
	return rs
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// classifyTokens classifies the statements of one reading.
func classifyTokens(toks []token) Class {
	out := Class{Type: "other", Kind: Read, ReadOnly: true}
	first := true
	for len(toks) > 0 {
		end := 0
		for end < len(toks) && toks[end].kind != tokSemicolon {
			end++
		}
		stmt := toks[:end]
		if end < len(toks) {
			end++
		}
		toks = toks[end:]
		if len(stmt) == 0 {
			continue
		}
		sc := classifyStatement(stmt)
		if first {
			out.Type, first = sc.typ, false
		}
		if sc.kind > out.Kind {
			out.Kind, out.Statement, out.Why = sc.kind, words(stmt), sc.why
		}
		if out.ReadOnly && !(sc.kind == Read || sc.kind == State && sc.simpleSet) {
			out.ReadOnly = false
			out.Statement, out.Why = words(stmt), sc.why
			if sc.kind == State {
				out.Why = "it changes the session: only SELECT, WITH ... SELECT, EXPLAIN, SHOW, DESCRIBE and SET of session variables to literal values are read-only"
			}
		}
	}
	return out
}

type stmtClass struct {
	typ       string
	kind      Kind
	why       string
	simpleSet bool // SET of session or user variables to literal values only
}

// writeVerbs start statements that change something; the type is the verb when it is one of
// Types, else "other".
var writeVerbs = map[string]bool{"insert": true, "update": true, "delete": true, "replace": true, "create": true,
	"drop": true, "alter": true, "truncate": true, "rename": true, "grant": true, "revoke": true, "call": true,
	"do": true, "lock": true, "unlock": true, "kill": true, "flush": true, "reset": true, "purge": true,
	"install": true, "uninstall": true, "optimize": true, "repair": true, "analyze": true, "check": true,
	"checksum": true, "handler": true, "xa": true, "prepare": true, "execute": true, "deallocate": true,
	"export": true, "backup": true, "restore": true, "recover": true, "refresh": true, "submit": true,
	"cancel": true, "admin": true, "cache": true, "shutdown": true, "binlog": true, "change": true,
	"stop": true, "merge": true, "sync": true, "clean": true, "pause": true, "resume": true, "upsert": true,
	"overwrite": true, "insert_overwrite": true, "signal": true, "resignal": true, "get": true}

func classifyStatement(t []token) stmtClass {
	k := 0
	for k < len(t) && t[k].kind == tokPunct && t[k].text == "(" {
		k++
	}
	if k == len(t) || t[k].kind != tokWord {
		return stmtClass{typ: "other", kind: Unknown, why: "it does not start with a statement keyword"}
	}
	var buf [32]byte
	verb := lower(t[k].text, &buf) // switch string(verb) does not allocate
	rest := t[k+1:]
	switch string(verb) {
	case "select", "values", "table":
		return query(t[k:], "select")
	case "with":
		for i, tok := range rest {
			if tok.kind == tokWord && dmlInQuery(rest, i) {
				v := strings.ToLower(tok.text)
				return stmtClass{typ: typeOf(v), kind: Write, why: "WITH ... " + strings.ToUpper(v) + " writes"}
			}
		}
		return query(t[k:], "select")
	case "show":
		// SHOW CREATE TABLE, SHOW GRANTS: the words after SHOW name what is shown; only a
		// function with side effects in a WHERE clause can do more than read.
		c := query(t[k:], "show")
		if c.kind != Read && !strings.Contains(c.why, "side effects") {
			c.kind, c.why = Read, ""
		}
		return c
	case "desc", "describe", "explain":
		typ := "explain"
		if string(verb) != "explain" {
			typ = "describe"
		}
		analyze := false
		for i, tok := range rest {
			if tok.is("analyze") {
				analyze = true
			}
			if tok.kind == tokPunct && tok.text == "(" || tok.kind == tokWord && inSet(explainable, tok.text) {
				c := classifyStatement(rest[i:])
				c.typ, c.simpleSet = typ, false
				if c.kind == State && !analyze {
					c.kind = Read // explaining SELECT ... INTO @x assigns nothing
				}
				if c.kind > Read && c.why != "" {
					c.why = strings.ToUpper(t[k].text) + " of a statement that " + strings.TrimPrefix(c.why, "it ")
				}
				return c
			}
		}
		if analyze {
			return stmtClass{typ: typ, kind: Unknown, why: "EXPLAIN ANALYZE of something not understood"}
		}
		return stmtClass{typ: typ, kind: Read} // DESCRIBE t, EXPLAIN FOR CONNECTION n
	case "set":
		return set(rest)
	case "use":
		return stmtClass{typ: "use", kind: State}
	case "begin":
		if len(rest) == 0 || len(rest) == 1 && rest[0].is("work") {
			return stmtClass{typ: "transaction", kind: State}
		}
		return stmtClass{typ: "other", kind: Unknown, why: "BEGIN ... is a compound statement (BEGIN NOT ATOMIC) that can run anything"}
	case "start":
		if len(rest) > 0 && rest[0].is("transaction") {
			return stmtClass{typ: "transaction", kind: State}
		}
		return stmtClass{typ: "other", kind: Write, why: "START " + upperWord(rest) + " changes the server"}
	case "commit", "rollback", "savepoint":
		return stmtClass{typ: "transaction", kind: State}
	case "release":
		if len(rest) > 0 && rest[0].is("savepoint") {
			return stmtClass{typ: "transaction", kind: State}
		}
		return stmtClass{typ: "other", kind: Unknown, why: "RELEASE " + upperWord(rest) + " is not understood"}
	case "load":
		for i := 0; i < len(rest) && i < 4; i++ {
			if rest[i].is("local") {
				return stmtClass{typ: "load", kind: LocalInfile, why: "LOAD DATA LOCAL reads a file from the client"}
			}
			if rest[i].is("infile") {
				break
			}
		}
		return stmtClass{typ: "load", kind: Write, why: "LOAD writes"}
	}
	if writeVerbs[string(verb)] {
		return stmtClass{typ: typeOf(string(verb)), kind: Write, why: strings.ToUpper(t[k].text) + " writes"}
	}
	return stmtClass{typ: "other", kind: Unknown, why: strings.ToUpper(t[k].text) + " is not a statement known to be read-only"}
}

// explainable words start the statement that EXPLAIN or DESCRIBE shows.
var explainable = map[string]bool{"select": true, "with": true, "table": true, "values": true, "insert": true,
	"update": true, "delete": true, "replace": true, "create": true, "alter": true, "drop": true, "set": true,
	"call": true, "load": true, "truncate": true, "submit": true}

func typeOf(verb string) string {
	for _, t := range Types {
		if t == verb {
			return t // not verb: it may live in a caller's buffer
		}
	}
	return "other"
}

func upperWord(t []token) string {
	if len(t) == 0 {
		return ""
	}
	return strings.ToUpper(t[0].text)
}

// isDMLVerb reports whether w is a reserved word that starts a data change; inside a query it
// means one (WITH ... DELETE) unless it names a function (REPLACE(), INSERT(), TRUNCATE()).
func isDMLVerb(w string) bool {
	if len(w) < 4 || len(w) > 8 {
		return false
	}
	var buf [32]byte
	switch string(lower(w, &buf)) {
	case "insert", "update", "delete", "replace", "create", "drop", "alter", "grant", "revoke", "rename",
		"call", "load", "truncate":
		return true
	}
	return false
}

// dmlInQuery reports whether t[i] is a write verb used as one: not a function name, not a
// qualified column name, not FOR UPDATE (a locking read, reported by query).
func dmlInQuery(t []token, i int) bool {
	w := t[i]
	if w.kind != tokWord || !isDMLVerb(w.text) {
		return false
	}
	if i+1 < len(t) && t[i+1].kind == tokPunct && t[i+1].text == "(" {
		return false
	}
	if i > 0 && t[i-1].kind == tokPunct && t[i-1].text == "." {
		return false
	}
	if w.is("update") && i > 0 && (t[i-1].is("for") || t[i-1].is("key")) {
		return false
	}
	return true
}

// hasSideEffects reports whether w names a built-in function that changes something beyond
// the result.
func hasSideEffects(w string) bool {
	if len(w) < 6 || len(w) > 32 {
		return false
	}
	var buf [32]byte
	switch string(lower(w, &buf)) {
	case "nextval", "setval", "get_lock", "release_lock", "release_all_locks", "sys_exec", "sys_eval",
		"master_pos_wait", "source_pos_wait", "master_gtid_wait", "wait_for_executed_gtid_set",
		"wait_until_sql_thread_after_gtids", "set_config":
		return true
	}
	return false
}

// query classifies a SELECT-like statement (also SHOW, and the expressions of SET).
func query(t []token, typ string) stmtClass {
	c := stmtClass{typ: typ, kind: Read}
	raise := func(k Kind, why string) {
		if k > c.kind {
			c.kind, c.why = k, why
		}
	}
	for i := 0; i < len(t); i++ {
		tok := t[i]
		next := token{kind: tokSemicolon}
		if i+1 < len(t) {
			next = t[i+1]
		}
		switch {
		case tok.kind == tokPunct && tok.text == ":=":
			raise(State, "it assigns a user variable")
		case tok.kind != tokWord:
		case i > 0 && t[i-1].kind == tokPunct && t[i-1].text == ".":
			// a qualified name: t.update is a column
		case tok.is("into"):
			switch {
			case next.is("outfile") || next.is("dumpfile"):
				raise(Write, "SELECT ... INTO "+strings.ToUpper(next.text)+" writes a file on the server")
			case next.kind == tokUserVar:
				raise(State, "it assigns a user variable")
			default:
				raise(Unknown, "SELECT ... INTO "+next.text+" is not understood")
			}
		case tok.is("for") && (next.is("update") || next.is("share")),
			tok.is("lock") && next.is("in"):
			raise(Write, "it is a locking read (FOR UPDATE / LOCK IN SHARE MODE): it holds locks on the server")
		case tok.is("next") && next.is("value") && i+2 < len(t) && t[i+2].is("for"):
			raise(Write, "NEXT VALUE FOR advances a sequence")
		case next.kind == tokPunct && next.text == "(" && hasSideEffects(tok.text):
			raise(Write, "it calls "+strings.ToUpper(tok.text)+"(), which has side effects")
		case dmlInQuery(t, i):
			raise(Write, "it contains "+strings.ToUpper(tok.text))
		}
	}
	return c
}

// set classifies SET <rest>.
func set(rest []token) stmtClass {
	if len(rest) == 0 {
		return stmtClass{typ: "set", kind: Unknown, why: "SET without assignments"}
	}
	switch w := strings.ToLower(rest[0].text); {
	case rest[0].kind != tokWord:
	case w == "statement":
		// SET STATEMENT var=value[, ...] FOR <stmt>: the settings last for <stmt> only.
		depth := 0
		for i, tok := range rest {
			switch {
			case tok.kind == tokPunct && tok.text == "(":
				depth++
			case tok.kind == tokPunct && tok.text == ")":
				depth--
			case depth == 0 && tok.is("for") && i+1 < len(rest):
				opts := query(rest[1:i], "set")
				c := classifyStatement(rest[i+1:])
				c.simpleSet = false
				if opts.kind > c.kind {
					c.kind, c.why = opts.kind, opts.why
				}
				if c.why != "" {
					c.why = "SET STATEMENT ... FOR a statement that " + strings.TrimPrefix(c.why, "it ")
				}
				return c
			}
		}
		return stmtClass{typ: "set", kind: Unknown, why: "SET STATEMENT without FOR"}
	case w == "password" || w == "role" || w == "default" || w == "property" || w == "resource":
		return stmtClass{typ: "set", kind: Write, why: "SET " + strings.ToUpper(w) + " changes accounts or roles, not session state"}
	case w == "transaction":
		return stmtClass{typ: "set", kind: State}
	case w == "catalog":
		return stmtClass{typ: "set", kind: State} // StarRocks: the session's current catalog
	}
	c := stmtClass{typ: "set", kind: State, simpleSet: true}
	for len(rest) > 0 {
		depth, end := 0, 0
		for ; end < len(rest); end++ {
			tok := rest[end]
			if tok.kind == tokPunct {
				switch tok.text {
				case "(":
					depth++
				case ")":
					depth--
				case ",":
					if depth == 0 {
						goto item
					}
				}
			}
		}
	item:
		ic := setItem(rest[:end])
		if ic.kind > c.kind {
			c.kind, c.why = ic.kind, ic.why
		}
		c.simpleSet = c.simpleSet && ic.simpleSet
		if end < len(rest) {
			end++
		}
		rest = rest[end:]
	}
	return c
}

var globalScopes = map[string]bool{"global": true, "persist": true, "persist_only": true}

// setItem classifies one assignment of a SET list.
func setItem(t []token) stmtClass {
	notSession := func(why string) stmtClass { return stmtClass{typ: "set", kind: Write, why: why} }
	unknown := stmtClass{typ: "set", kind: Unknown, why: "SET " + words(t) + " is not understood"}
	if len(t) == 0 {
		return unknown
	}
	i := 0
	switch {
	case t[0].kind == tokWord && inSet(globalScopes, t[0].text):
		return notSession("SET " + strings.ToUpper(t[0].text) + " changes the whole server")
	case t[0].is("password"):
		return notSession("SET PASSWORD changes an account")
	case t[0].is("names") || t[0].is("charset") || t[0].is("character") && len(t) > 1 && t[1].is("set"):
		return stmtClass{typ: "set", kind: State, simpleSet: true}
	case t[0].is("transaction"):
		return stmtClass{typ: "set", kind: State}
	case t[0].kind == tokUserVar:
		i = 1
	case t[0].kind == tokSysVar:
		if len(t) < 2 {
			return unknown
		}
		if t[1].kind == tokWord || t[1].kind == tokIdent {
			if inSet(globalScopes, t[1].text) {
				return notSession("SET @@" + strings.ToUpper(t[1].text) + ".… changes the whole server")
			}
		}
		i = 1
		if len(t) > 3 && (t[1].named("session") || t[1].named("local")) && t[2].kind == tokPunct && t[2].text == "." {
			i = 3
		}
		if t[i].kind != tokWord && t[i].kind != tokIdent {
			return unknown
		}
		i++
	case t[0].is("session") || t[0].is("local"):
		if len(t) > 1 && t[1].is("transaction") {
			return stmtClass{typ: "set", kind: State}
		}
		i = 1
		if i >= len(t) || t[i].kind != tokWord && t[i].kind != tokIdent {
			return unknown
		}
		i++
	case t[0].kind == tokWord || t[0].kind == tokIdent:
		i = 1
	default:
		return unknown
	}
	if i >= len(t) || t[i].kind != tokPunct || t[i].text != "=" && t[i].text != ":=" {
		return unknown // a.b (structured, often global variables), or no value
	}
	value := t[i+1:]
	if len(value) == 0 {
		return unknown
	}
	c := query(value, "set")
	c.kind = max(c.kind, State)
	if c.kind == State {
		c.why = ""
	}
	c.simpleSet = c.kind == State && isLiteral(value)
	return c
}

// isLiteral reports whether t is one literal value: a number, a string, a word (ON, OFF, DEFAULT,
// utf8mb4), optionally signed.
func isLiteral(t []token) bool {
	if len(t) == 2 && t[0].kind == tokPunct && (t[0].text == "-" || t[0].text == "+") {
		t = t[1:]
	}
	return len(t) == 1 && (t[0].kind == tokNumber || t[0].kind == tokString || t[0].kind == tokWord)
}

// words renders a statement's tokens for a message, clipped, string literals as '?'.
func words(t []token) string {
	var b strings.Builder
	for i, tok := range t {
		if b.Len() > 120 {
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		switch tok.kind {
		case tokString:
			b.WriteString("'?'") // a refused SET PASSWORD or CREATE USER must not print its password
		case tokIdent:
			b.WriteString("`" + tok.text + "`")
		default:
			b.WriteString(tok.text)
		}
	}
	return clip(b.String())
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 100 {
		return s[:97] + "..."
	}
	return s
}

// UseTarget returns the database a USE statement selects ("" when sql is not one).
func UseTarget(sql string) string {
	toks, err := lex(sql, reading{mariaDB: true, version: 999999}, nil)
	for len(toks) > 0 && toks[len(toks)-1].kind == tokSemicolon {
		toks = toks[:len(toks)-1]
	}
	if err != nil || len(toks) != 2 || !toks[0].is("use") || toks[1].kind != tokWord && toks[1].kind != tokIdent {
		return ""
	}
	if toks[1].kind == tokIdent {
		return strings.ReplaceAll(toks[1].text, "``", "`")
	}
	return toks[1].text
}

// lower returns s in lower case, in buf when it fits (classification runs on every mirrored
// query: no allocation for keywords).
func lower(s string, buf *[32]byte) []byte {
	if len(s) > len(buf) {
		return []byte(strings.ToLower(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(s)]
}

// inSet reports whether the lower-case form of w is in m.
func inSet(m map[string]bool, w string) bool {
	var buf [32]byte
	if len(w) > len(buf) {
		return false // no keyword is that long
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return m[string(buf[:len(w)])]
}
