package fingerprint

import (
	"math/bits"
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
	s := trimStatementEnd(sql)
	if !endsInComment(s) {
		return Tag{}, false
	}
	// One pass over the marks of the bytes that matter finds the first "/*", which must open the
	// trailing comment (a second one inside it sends the query to Classify), and checks the
	// head before it: a line comment or a quote there could make it not a comment at all, and
	// another "*/" there could mean a comment in a quote-free position; leave those to Classify.
	// (Seven searches over the whole text each were half of this function's time.)
	open, quotes := -1, 0
scan:
	for base := 0; base < len(s); base += 64 {
		for m := sqlSpecials.marks(s, base); m != 0; m &= m - 1 {
			i := base + bits.TrailingZeros64(m)
			switch s[i] {
			case '/':
				if i+1 < len(s) && s[i+1] == '*' {
					open = i
					break scan
				}
			case '*':
				// "*/" in the head, unless its '/' opens the comment ("*/*": the head ends at '*').
				if i+1 < len(s) && s[i+1] == '/' && (i+2 >= len(s) || s[i+2] != '*') {
					return Tag{}, false
				}
			case '-':
				if i+1 < len(s) && s[i+1] == '-' { // s[i+1] is not the comment's '/'
					return Tag{}, false
				}
			case '\'':
				quotes++
			default: // '#', '"', '`'
				return Tag{}, false
			}
		}
	}
	if open < 0 || open > len(s)-4 || quotes%2 != 0 {
		return Tag{}, false
	}
	body := s[open+2 : len(s)-2]
	if len(body) > 0 && body[0] == '+' { // an optimizer hint, not tags
		return Tag{}, false
	}
	// A "/*" or "*/" inside would open another comment or close this one early (what follows it
	// is SQL, not tags): both hold a '*', rare in tags.
	for j := 0; j < len(body); j++ {
		k := strings.IndexByte(body[j:], '*')
		if k < 0 {
			break
		}
		j += k
		if j > 0 && body[j-1] == '/' || j+1 < len(body) && body[j+1] == '/' {
			return Tag{}, false
		}
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

// EndsInComment says that sql ends in a block comment ("*/", before the white space and
// semicolons that end a statement): the texts TrailingTag may name, at the cost of a look at
// their last bytes.
func EndsInComment(sql string) bool { return endsInComment(trimStatementEnd(sql)) }

// endsInComment is EndsInComment for a text whose statement end is trimmed already.
func endsInComment(s string) bool { return len(s) >= 4 && s[len(s)-2] == '*' && s[len(s)-1] == '/' }

// sqlSpecials are the bytes whose place in a text decides whether TrailingTag may read its
// trailing comment: the comment markers' bytes, the line comments' first bytes and the quotes.
var sqlSpecials = newByteSet("/*-#'\"`")

// trimStatementEnd drops the white space and semicolons that end a statement (a loop:
// strings.TrimRight builds its character set on every call).
func trimStatementEnd(s string) string {
	for len(s) > 0 {
		switch s[len(s)-1] {
		case ' ', '\t', '\r', '\n', ';':
			s = s[:len(s)-1]
		default:
			return s
		}
	}
	return s
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
// shape: no pair at all, a backslash (an escape, rare in tags: Classify unescapes) or an unclosed
// quote, a key that URL decoding could change or that parseSQLCommenter refuses, or anything
// after the last pair.
//
// Each pair is read as commenterPair reads it for parseSQLCommenter, which the tests hold this
// loop to: with no backslash in the body, commenterPair's escape handling never applies, and
// its searches and trims come down to the few below (a call to commenterPair per pair was half
// of TrailingTag's time).
func commenterTags(body string) (t Tag, ok bool) {
	rest := strings.TrimSpace(body)
	if rest == "" || strings.IndexByte(rest, '\\') >= 0 {
		return Tag{}, false
	}
	for rest != "" {
		eq := keyEnd(rest)
		if eq <= 0 {
			return Tag{}, false
		}
		key := rest[:eq]
		if c0, cn := key[0], key[len(key)-1]; c0 <= ' ' || c0 >= 0x80 || cn <= ' ' || cn >= 0x80 {
			key = strings.TrimSpace(key) // only then can there be white space to trim
		}
		v := rest[eq+2:]
		end := strings.IndexByte(v, '\'')
		if end < 0 || !plainKey(key) {
			return Tag{}, false
		}
		switch key {
		case "route":
			t.Route = v[:end]
		case "controller":
			t.Controller = v[:end]
		case "action":
			t.Action = v[:end]
		}
		rest = v[end+1:]
		for len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
		if len(rest) > 0 && rest[0] == ',' {
			rest = rest[1:]
		}
	}
	return t, true
}

// keyEnd is strings.Index(s, "='") for the short keys of a sqlcommenter body: a search for '='
// and a look at the byte after it, without strings.Index's set-up.
func keyEnd(s string) int {
	for i := 0; i < len(s); i++ {
		k := strings.IndexByte(s[i:], '=')
		if k < 0 {
			return -1
		}
		i += k
		if i+1 < len(s) && s[i+1] == '\'' {
			return i
		}
	}
	return -1
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
