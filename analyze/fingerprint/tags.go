package fingerprint

import (
	"net/url"
	"strings"
)

// Tag sources.
const (
	SourceSQLCommenter = "sqlcommenter"
	SourceMarginalia   = "marginalia"
)

// Tags returns the key/value tags of the last sqlcommenter comment in sql (k='v',... with URL
// encoding), else of a Marginalia comment (k:v,...), and which of the two it found. Parsing is
// lenient: a malformed pair is skipped, not fatal.
func Tags(sql string) (map[string]string, string) {
	comments := blockComments(sql)
	for i := len(comments) - 1; i >= 0; i-- {
		if tags := parseSQLCommenter(comments[i]); len(tags) > 0 {
			return tags, SourceSQLCommenter
		}
	}
	for _, c := range comments {
		if tags := parseMarginalia(c); len(tags) > 0 {
			return tags, SourceMarginalia
		}
	}
	return nil, ""
}

// Endpoint names the application endpoint the tags point at: route, else controller#action,
// else controller alone. Empty when the tags say nothing about it.
func Endpoint(tags map[string]string) string {
	if r := tags["route"]; r != "" {
		return r
	}
	c, a := tags["controller"], tags["action"]
	switch {
	case c != "" && a != "":
		return c + "#" + a
	case c != "":
		return c
	}
	return ""
}

// blockComments returns the bodies of /* */ comments outside string literals, hints excluded.
func blockComments(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(s, i, c) - 1
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return out
			}
			body := s[i+2 : i+2+end]
			if !strings.HasPrefix(body, "+") {
				out = append(out, body)
			}
			i += 2 + end + 1
		}
	}
	return out
}

func parseSQLCommenter(body string) map[string]string {
	tags := map[string]string{}
	rest := strings.TrimSpace(body)
	for rest != "" {
		key, v, escaped, next, ok := commenterPair(rest)
		if !ok || strings.ContainsAny(key, " :'") {
			break
		}
		if escaped {
			v = unescapeCommenter(v)
		}
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if u, err := url.QueryUnescape(v); err == nil {
			v = u
		}
		tags[key] = v
		rest = next
	}
	return tags
}

// commenterPair reads the key='value' pair that starts a sqlcommenter body's rest, as
// parseSQLCommenter reads it (the fast path, commenterTags, reads bodies without a backslash the
// same way, and tests hold it to this): key is the text before the first "='", trimmed; raw is
// the value as written up to its closing quote, a backslash escaping the byte after it (escaped
// says there is one: raw keeps them); next is what follows the quote, spaces and one comma
// skipped. ok is false when no key or no closing quote is there.
func commenterPair(rest string) (key, raw string, escaped bool, next string, ok bool) {
	eq := strings.Index(rest, "='")
	if eq <= 0 {
		return "", "", false, "", false
	}
	key, rest = strings.TrimSpace(rest[:eq]), rest[eq+2:]
	end := strings.IndexByte(rest, '\'')
	if bs := strings.IndexByte(rest, '\\'); bs >= 0 && (end < 0 || bs < end) {
		escaped, end = true, -1 // the quote may be escaped: walk from the first backslash
		for j := bs; j < len(rest); j++ {
			if rest[j] == '\\' && j+1 < len(rest) {
				j++
				continue
			}
			if rest[j] == '\'' {
				end = j
				break
			}
		}
	}
	if end < 0 {
		return "", "", false, "", false
	}
	return key, rest[:end], escaped, strings.TrimPrefix(strings.TrimLeft(rest[end+1:], " "), ","), true
}

// unescapeCommenter drops the backslash of each escape in a raw value (commenterPair's).
func unescapeCommenter(raw string) string {
	var val strings.Builder
	for j := 0; j < len(raw); j++ {
		if raw[j] == '\\' && j+1 < len(raw) {
			j++
		}
		val.WriteByte(raw[j])
	}
	return val.String()
}

func parseMarginalia(body string) map[string]string {
	tags := map[string]string{}
	for _, pair := range strings.Split(body, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok || k == "" || strings.ContainsAny(k, " ='") {
			continue
		}
		tags[k] = strings.TrimSpace(v)
	}
	if tags["controller"] == "" && tags["application"] == "" && tags["action"] == "" && tags["job"] == "" {
		return nil
	}
	return tags
}
