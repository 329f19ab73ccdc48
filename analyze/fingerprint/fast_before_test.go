package fingerprint

import (
	"strings"
	"testing"
)

// trailingTagBefore is TrailingTag as it was before its single pass (seven searches over the text,
// commenterPair per pair): the reference the new one is held to.
func trailingTagBefore(sql string) (t Tag, ok bool) {
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
	if t, ok = commenterTagsBefore(body); !ok {
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

func commenterTagsBefore(body string) (t Tag, ok bool) {
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

// agreesWithBefore checks TrailingTag against trailingTagBefore: the same answer, except that the
// new one refuses texts with a backslash in the comment (Classify then decides, as it did for
// escaped values before).
func agreesWithBefore(t *testing.T, sql string) {
	t.Helper()
	got, ok := TrailingTag(sql)
	want, wantOK := trailingTagBefore(sql)
	if ok && (!wantOK || got != want) {
		t.Fatalf("TrailingTag(%q) = %+v, true; before: %+v, %v", sql, got, want, wantOK)
	}
	if !ok && wantOK && !strings.Contains(sql, `\`) {
		t.Fatalf("TrailingTag(%q) refused; before: %+v", sql, want)
	}
}

func TestTrailingTagAgreesWithBefore(t *testing.T) {
	long := strings.Repeat("a.b, c*d, '2026-03-01', x-y, ", 9) // marks in several 64-byte windows
	for _, sql := range []string{
		"SELECT * FROM t /*route='%2Fa',traceparent='00-1'*/",
		"SELECT 1 /*action='show',controller='users'*/ ;\n",
		"SELECT " + long + "1 /*route='r'*/",
		"SELECT " + long + "1 /*route='r',x='" + long + "'*/",
		"SELECT 1*/* /*route='r'*/", "SELECT 1 */*route='r'*/", "SELECT 1*//*route='r'*/",
		"SELECT 1 */ /*route='r'*/", "SELECT 1 - -1 /*route='r'*/", "SELECT 1 --x\n/*route='r'*/",
		"SELECT 1-/*route='r'*/", "SELECT '' /*route='r'*/", "SELECT ''' /*route='r'*/",
		"SELECT # /*route='r'*/", "SELECT `c` /*route='r'*/", "SELECT \"c\" /*route='r'*/",
		"/**/", "/*route='r'*/", "x/*route='r'*/", "*/", "/**", "/*/", "SELECT 1 /*+ x */",
		"SELECT 1 /*route='/*'*/", "SELECT 1 /*route='*/'*/", "SELECT 1 /*route='a*b'*/",
		"SELECT 1 /*route='r',*/", "SELECT 1 /* route = 'r' */", "SELECT 1 /*\troute='r'\t*/",
		"SELECT 1 /*route='r' x*/", "SELECT 1 /*route='r'  ,  action='a'*/", "SELECT 1 /*='r'*/",
		"SELECT 1 /*ro ute='r'*/", "SELECT 1 /*r:='r'*/", "SELECT 1 /*route=''*/", "SELECT 1 /*route='r\\'*/",
		"SELECT 1 /*a\\b='x',route='r'*/", "SELECT 1 /*\u00a0route='r'*/", "SELECT 1 /*route\u0085='r'*/",
		"SELECT 1 /*route='a=b',c='d'*/", "SELECT 1 /*route=='r'*/", "SELECT 1 /*route='r'='*/",
	} {
		agreesWithBefore(t, sql)
	}
}

// FuzzTrailingTagAgreesWithBefore holds the single pass to the searches it replaced.
func FuzzTrailingTagAgreesWithBefore(f *testing.F) {
	f.Add("SELECT a*b, '-' FROM t /*route='%2Fa',traceparent='00-1'*/;")
	f.Add("SELECT 1 */*controller='c', action='a'*/")
	f.Add("SELECT 1 /* route='r' , x='y'*/ \t")
	f.Fuzz(func(t *testing.T, sql string) { agreesWithBefore(t, sql) })
}
