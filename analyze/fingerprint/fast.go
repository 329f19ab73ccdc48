package fingerprint

import (
	"net/url"
	"strings"
)

// TrailingEndpoint is Classify's answer for the common case, without allocating: sql ends with a
// sqlcommenter comment that names a route or controller and action. ok is false whenever the
// case is not that simple (no trailing comment, a line comment that could hide it, escapes in
// a value) and the caller must use Classify; when ok is true the endpoint equals
// Classify(sql).Endpoint. The result may be a substring of sql: copy it before keeping it if
// sql's memory is reused.
func TrailingEndpoint(sql string) (endpoint string, ok bool) {
	s := strings.TrimRight(sql, " \t\r\n;")
	if !strings.HasSuffix(s, "*/") {
		return "", false
	}
	open := strings.LastIndex(s, "/*")
	if open < 0 || open+2 > len(s)-2 {
		return "", false
	}
	body := s[open+2 : len(s)-2]
	if strings.HasPrefix(body, "+") || strings.Contains(body, "/*") {
		return "", false
	}
	head := sql[:open]
	// A line comment or a quote before the comment could make this not a comment at all, or
	// there could be another sqlcommenter comment in a quote-free position; leave those to Classify.
	if strings.Contains(head, "--") || strings.IndexByte(head, '#') >= 0 || strings.Contains(head, "*/") {
		return "", false
	}
	if strings.Count(head, "'")%2 != 0 || strings.IndexByte(head, '"') >= 0 || strings.IndexByte(head, '`') >= 0 {
		return "", false
	}
	route, ok := commenterValue(body, "route")
	if !ok {
		return "", false
	}
	if route != "" {
		return route, true
	}
	c, ok1 := commenterValue(body, "controller")
	a, ok2 := commenterValue(body, "action")
	if !ok1 || !ok2 || c == "" || a == "" {
		return "", false // controller alone, Marginalia, rules: Classify decides
	}
	return c + "#" + a, true
}

// commenterValue finds key='value' as a whole key of a sqlcommenter body. ok is false when the
// body does not look like sqlcommenter or the value needs more than URL decoding.
func commenterValue(body, key string) (string, bool) {
	if !strings.Contains(body, "='") {
		return "", false
	}
	for i := 0; ; {
		j := strings.Index(body[i:], key+"='")
		if j < 0 {
			return "", true
		}
		j += i
		if j > 0 && body[j-1] != ',' && body[j-1] != ' ' {
			i = j + len(key)
			continue
		}
		v := body[j+len(key)+2:]
		end := strings.IndexByte(v, '\'')
		if end < 0 || strings.IndexByte(v[:end], '\\') >= 0 {
			return "", false
		}
		v = v[:end]
		if strings.ContainsAny(v, "%+") {
			u, err := url.QueryUnescape(v)
			if err != nil {
				return "", false
			}
			v = u
		}
		return v, true
	}
}
