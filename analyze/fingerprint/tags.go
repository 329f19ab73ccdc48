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
		eq := strings.Index(rest, "='")
		if eq <= 0 {
			break
		}
		key := strings.TrimSpace(rest[:eq])
		rest = rest[eq+2:]
		var v string
		closed := false
		if j := strings.IndexAny(rest, `'\`); j >= 0 && rest[j] == '\'' {
			// No escape in the value (the rule): the text itself, not a copy built byte by byte.
			v, rest, closed = rest[:j], strings.TrimLeft(rest[j+1:], " "), true
		} else {
			var val strings.Builder
			for j := 0; j < len(rest); j++ {
				if rest[j] == '\\' && j+1 < len(rest) {
					val.WriteByte(rest[j+1])
					j++
					continue
				}
				if rest[j] == '\'' {
					rest = strings.TrimLeft(rest[j+1:], " ")
					closed = true
					break
				}
				val.WriteByte(rest[j])
			}
			v = val.String()
		}
		if !closed || strings.ContainsAny(key, " :'") {
			break
		}
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if u, err := url.QueryUnescape(v); err == nil {
			v = u
		}
		tags[key] = v
		rest = strings.TrimPrefix(rest, ",")
	}
	return tags
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
