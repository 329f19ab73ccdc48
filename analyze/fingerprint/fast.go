package fingerprint

import (
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// unescapeCache remembers URL-decoded tag values: routes repeat on every query of an endpoint
// while decoding allocates. sync.Map: reads take no lock (parsers call this on every row).
var unescapeCache valueCache

type valueCache struct {
	m sync.Map // raw -> decoded
	n atomic.Int64
}

const valueCacheMax = 4096

func (c *valueCache) get(raw string) (string, bool) {
	if v, ok := c.m.Load(raw); ok {
		return v.(string), true
	}
	v, err := url.QueryUnescape(raw)
	if err != nil {
		return "", false
	}
	if c.n.Add(1) > valueCacheMax {
		c.m.Clear()
		c.n.Store(0)
	}
	c.m.Store(strings.Clone(raw), v)
	return v, true
}

// TrailingEndpoint is Classify's answer for the common case: sql ends with a sqlcommenter
// comment that names a route or controller and action. ok is false whenever the case is not that
// simple (no trailing comment, a line comment that could hide it, escapes in a value) and the
// caller must use Classify; when ok is true the endpoint equals Classify(sql).Endpoint. The result
// may be a substring of sql: copy it before keeping it if sql's memory is reused.
func TrailingEndpoint(sql string) (endpoint string, ok bool) {
	t, ok := TrailingTag(sql)
	if !ok {
		return "", false
	}
	return t.Endpoint()
}

// Tag is the endpoint part of a trailing sqlcommenter comment, values as written (URL-encoded):
// Route, or when it is absent or empty, Controller and Action.
type Tag struct{ Route, Controller, Action string }

// TrailingTag is TrailingEndpoint without the URL decoding, and without allocating: callers that
// see the same routes over and over can cache by the raw values and decode once. The values are
// substrings of sql. ok is false where TrailingEndpoint's would be, except for values that are
// not valid URL encoding: Endpoint refuses those.
func TrailingTag(sql string) (t Tag, ok bool) {
	s := strings.TrimRight(sql, " \t\r\n;")
	if !strings.HasSuffix(s, "*/") {
		return Tag{}, false
	}
	// The first "/*" must open the trailing comment (a second one inside it sends the query to
	// Classify): a forward vectorised search beats scanning backwards byte by byte.
	open := strings.Index(s, "/*")
	if open < 0 || open > len(s)-4 {
		return Tag{}, false
	}
	body := s[open+2 : len(s)-2]
	// A "*/" inside would close the comment early (what follows it is SQL, not tags).
	if strings.HasPrefix(body, "+") || strings.Contains(body, "/*") || strings.Contains(body, "*/") {
		return Tag{}, false
	}
	head := sql[:open]
	// A line comment or a quote before the comment could make this not a comment at all, or
	// there could be another sqlcommenter comment in a quote-free position; leave those to Classify.
	if strings.Contains(head, "--") || strings.IndexByte(head, '#') >= 0 || strings.Contains(head, "*/") {
		return Tag{}, false
	}
	if strings.Count(head, "'")%2 != 0 || strings.IndexByte(head, '"') >= 0 || strings.IndexByte(head, '`') >= 0 {
		return Tag{}, false
	}
	if t, ok = commenterTags(body); !ok {
		return Tag{}, false
	}
	if t.Route != "" {
		return Tag{Route: t.Route}, true
	}
	if t.Controller == "" || t.Action == "" {
		return Tag{}, false // controller alone, no endpoint key, rules: Classify decides
	}
	return t, true
}

// Endpoint decodes t's values into the endpoint's name: the route, else controller#action. ok is
// false when a value is not valid URL encoding (Classify then decides).
func (t Tag) Endpoint() (string, bool) {
	if t.Route != "" {
		return urlValue(t.Route)
	}
	c, ok1 := urlValue(t.Controller)
	a, ok2 := urlValue(t.Action)
	if !ok1 || !ok2 {
		return "", false
	}
	return c + "#" + a, true
}

// urlValue decodes a raw tag value; values without '%' or '+' are their own decoding.
func urlValue(v string) (string, bool) {
	if strings.IndexByte(v, '%') < 0 && strings.IndexByte(v, '+') < 0 {
		return v, true
	}
	return unescapeCache.get(v)
}

// commenterTags reads a sqlcommenter body the way parseSQLCommenter does (key='value pairs in
// order, a later key overriding an earlier one) without building a map, and keeps the endpoint
// keys' raw values. ok is false, and Classify must decide, wherever the body is not plainly that
// shape: no pair at all, an escape or an unclosed quote, a key that URL decoding could change or
// that parseSQLCommenter refuses, or anything after the last pair.
func commenterTags(body string) (t Tag, ok bool) {
	rest := strings.TrimSpace(body)
	if rest == "" {
		return Tag{}, false
	}
	for rest != "" {
		key, v, escaped, next, ok := commenterPair(rest)
		if !ok || escaped || !plainKey(key) {
			return Tag{}, false
		}
		switch key {
		case "route":
			t.Route = v
		case "controller":
			t.Controller = v
		case "action":
			t.Action = v
		}
		rest = next
	}
	return t, true
}

// plainKey reports that parseSQLCommenter takes key as it is: none of the characters it refuses
// (space, ':', a quote) or that URL decoding would change ('%', '+'). A loop: keys are a few
// bytes, and strings.ContainsAny builds its character set on every call.
func plainKey(key string) bool {
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case ' ', ':', '\'', '%', '+':
			return false
		}
	}
	return true
}
