// Package redact keeps credentials out of what srctl prints: connection strings in every form
// srctl accepts (go-sql-driver/mysql DSNs, URLs, PostgreSQL keyword=value strings) and errors
// of parsers and drivers that may quote them.
//
// Every error path that names a DSN goes through DSN; every error that comes from parsing or
// using one goes through Error with that DSN's Secrets. A string that cannot be understood is
// shown only up to where a credential could start.
package redact

import (
	"errors"
	"net/url"
	"strings"
)

// Mask replaces a secret.
const Mask = "***"

// secretKeys are keyword/value and URL query keys whose values are secrets.
var secretKeys = map[string]bool{"password": true, "passwd": true, "pass": true, "pwd": true, "sslpassword": true,
	"secret": true, "token": true, "access_key": true, "secret_key": true, "secret_access_key": true,
	"session_token": true, "credential": true, "credentials": true, "api_key": true, "apikey": true}

// DSN returns dsn with its credentials masked.
func DSN(dsn string) string {
	switch {
	case dsn == "":
		return ""
	case strings.Contains(dsn, "://"):
		return redactURL(dsn)
	case IsKeywordValue(dsn):
		return redactKeywordValue(dsn)
	}
	return redactDriverDSN(dsn)
}

// Secrets returns the substrings of dsn that are credentials (raw and URL-decoded), for Error.
func Secrets(dsn string) []string {
	var out []string
	add := func(s string) {
		if s != "" && s != Mask {
			out = append(out, s)
			if d, err := url.PathUnescape(s); err == nil && d != s {
				out = append(out, d)
			}
			if d, err := url.QueryUnescape(s); err == nil && d != s {
				out = append(out, d)
			}
		}
	}
	switch {
	case strings.Contains(dsn, "://"):
		rest := dsn[strings.Index(dsn, "://")+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			cred := rest[:at]
			if i := strings.IndexByte(cred, ':'); i >= 0 {
				add(cred[i+1:])
			} else if strings.HasPrefix(dsn, "http") {
				add(cred) // https://TOKEN@host: a token as the user name (a database URL names a user)
			}
		}
		if q := strings.IndexByte(rest, '?'); q >= 0 {
			for _, kv := range strings.Split(rest[q+1:], "&") {
				if k, v, ok := strings.Cut(kv, "="); ok && secretKeys[strings.ToLower(k)] {
					add(v)
				}
			}
		}
	case IsKeywordValue(dsn):
		for _, kv := range keywordValues(dsn) {
			if secretKeys[strings.ToLower(kv.key)] {
				add(kv.value)
				add(kv.raw)
			}
		}
	default:
		if at := strings.LastIndex(dsn, "@"); at >= 0 {
			if i := strings.IndexByte(dsn[:at], ':'); i >= 0 {
				add(dsn[i+1 : at])
			}
		} else if i := strings.IndexByte(dsn, ':'); i >= 0 && !strings.Contains(dsn[:i], "(") {
			add(dsn[i+1:])
		}
	}
	return out
}

// Error returns err with every secret masked in its message (nil stays nil). The result does
// not wrap err: errors.Is/As would hand the original message back to a caller that prints it.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return redactedError{msg: Text(err.Error(), secrets...), err: err}
}

// Text masks every secret in s, and every start of one of at least minEcho bytes: a parser
// that stops at a character it does not expect echoes the password up to it.
func Text(s string, secrets ...string) string {
	var cands []string
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		cands = append(cands, sec)
		for n := min(len(sec)-1, 256); n >= minEcho; n-- {
			cands = append(cands, sec[:n])
		}
	}
	for {
		longest := ""
		for _, c := range cands {
			if len(c) > len(longest) && strings.Contains(s, c) {
				longest = c
			}
		}
		if longest == "" {
			return s
		}
		s = strings.ReplaceAll(s, longest, Mask)
	}
}

// minEcho is the shortest start of a secret that Text masks on its own.
const minEcho = 6

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }

// Is lets callers test the kind of the original error (context.Canceled, os.ErrNotExist...)
// without reaching its text: there is no As, which would hand the original back.
func (e redactedError) Is(target error) bool { return errors.Is(e.err, target) }

func redactURL(s string) string {
	scheme := s[:strings.Index(s, "://")]
	u, err := url.Parse(s)
	rest := s[len(scheme)+3:]
	if err != nil || u.Scheme != scheme || u.User == nil && strings.Contains(rest, "@") {
		// Unparseable, or a '#', '?' or '/' in the password ended the authority early:
		// show what precedes any credential, and the host after the last '@'.
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			host := rest[at+1:]
			if i := strings.IndexAny(host, "?#"); i >= 0 {
				host = host[:i]
			}
			return scheme + "://" + Mask + "@" + host
		}
		return scheme + "://" + Mask
	}
	var userinfo string
	if u.User != nil {
		userinfo = u.User.Username()
		if _, has := u.User.Password(); has {
			userinfo += ":" + Mask
		}
		userinfo += "@"
		u.User = nil
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if secretKeys[strings.ToLower(k)] {
				q[k] = []string{Mask}
			}
		}
		u.RawQuery = strings.ReplaceAll(q.Encode(), url.QueryEscape(Mask), Mask)
	}
	out := u.String()
	if userinfo != "" {
		out = scheme + "://" + userinfo + strings.TrimPrefix(out, scheme+"://")
	}
	return out
}

func redactDriverDSN(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		// No '@': user:password/db typed without it would put the password here.
		if i := strings.IndexByte(s, ':'); i >= 0 && !strings.Contains(s[:i], "(") {
			return s[:i] + ":" + Mask
		}
		return s
	}
	cred := s[:at]
	if i := strings.IndexByte(cred, ':'); i >= 0 {
		return cred[:i] + ":" + Mask + s[at:]
	}
	return s
}

// isKeywordValue reports whether s looks like a libpq keyword=value connection string.
func IsKeywordValue(s string) bool {
	for _, kv := range keywordValues(s) {
		switch strings.ToLower(kv.key) {
		case "host", "hostaddr", "port", "user", "password", "dbname", "sslmode", "passfile", "sslpassword":
			return true
		}
	}
	return false
}

type keywordValue struct{ key, value, raw string }

// keywordValues splits "k=v k2='v 2'" as libpq does (quotes, backslash escapes).
func keywordValues(s string) []keywordValue {
	var out []keywordValue
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			i++
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' {
			i++
		}
		key := strings.TrimSpace(s[start:i])
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			if key == "" {
				break
			}
			continue
		}
		i++
		for i < len(s) && s[i] == ' ' {
			i++
		}
		vstart := i
		var b strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			for i < len(s) && s[i] != '\'' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			if i < len(s) {
				i++
			}
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
		}
		out = append(out, keywordValue{key: key, value: b.String(), raw: s[vstart:i]})
	}
	return out
}

func redactKeywordValue(s string) string {
	var b strings.Builder
	for i, kv := range keywordValues(s) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv.key + "=")
		if secretKeys[strings.ToLower(kv.key)] {
			b.WriteString(Mask)
		} else {
			b.WriteString(kv.raw)
		}
	}
	return b.String()
}
