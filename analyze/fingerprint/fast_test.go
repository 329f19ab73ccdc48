package fingerprint

import "testing"

// TestTrailingEndpointAgreesWithClassify: whenever the fast path answers, it answers what
// Classify does; and it answers for the ordinary sqlcommenter shapes.
func TestTrailingEndpointAgreesWithClassify(t *testing.T) {
	must := []string{
		"SELECT * FROM users WHERE id = 1 /*route='%2Fapi%2Fusers%2F%3Aid',traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'*/",
		"SELECT 1 /*action='show',controller='users',framework='rails'*/;",
		"SELECT 'a''b' FROM t /*application='x',route='/plain'*/\n",
		"SELECT 1 /*route='a+b'*/",
		"SELECT a/b, c*d FROM t /*route='%2Fratio'*/",
	}
	maybe := []string{
		"/*application:App,controller:users,action:show*/ SELECT 1",
		"SELECT 1 -- /*route='hidden'*/",
		"SELECT '/*' /*route='x'*/",
		"SELECT 1 /*controller='users'*/",
		"SELECT 1 /*route='it\\'s'*/",
		"SELECT 1 /*+ SET_VAR(a=1) */",
		"SELECT 1 /*xroute='no'*/",
		"SELECT 1 /*traceparent='00-1'*/",
		"SELECT \"x\" /*route='y'*/",
		"SELECT 1 /*route='%zz'*/",
		"SELECT 1",
		"SELECT 1 /*/",
		"/* a */ SELECT 1 /*route='x'*/",
		"SELECT 1 /*route='x'*/ /*route='y'*/",
		"SELECT '*/' /*route='x'*/",
	}
	var rs *Rules
	for _, sql := range append(must, maybe...) {
		ep, ok := TrailingEndpoint(sql)
		want := rs.Classify(sql)
		if ok && (ep != want.Endpoint || want.Source != SourceSQLCommenter) {
			t.Errorf("TrailingEndpoint(%q) = %q, Classify says %q (%s)", sql, ep, want.Endpoint, want.Source)
		}
	}
	for _, sql := range must {
		if _, ok := TrailingEndpoint(sql); !ok {
			t.Errorf("TrailingEndpoint(%q) gave up on an ordinary comment", sql)
		}
	}
}

// FuzzTrailingEndpoint holds the fast path to Classify on arbitrary text.
func FuzzTrailingEndpoint(f *testing.F) {
	f.Add("SELECT 1 /*route='%2Fa',traceparent='00-1'*/")
	f.Add("SELECT '/*' /*controller='c',action='a'*/;")
	f.Add("/* x */ SELECT 1 /*route='y'*/ -- z")
	f.Add("SELECT 1 /*a='x'y,route='z', controller='c',action='a b'*/")
	f.Add("SELECT 1 /* route='%2F' ,route='q+r',x='\\''*/")
	f.Fuzz(func(t *testing.T, sql string) {
		if ep, ok := TrailingEndpoint(sql); ok {
			var rs *Rules
			if want := rs.Classify(sql); ep != want.Endpoint || want.Source != SourceSQLCommenter {
				t.Errorf("TrailingEndpoint(%q) = %q, Classify says %q (%s)", sql, ep, want.Endpoint, want.Source)
			}
		}
	})
}

// TestTrailingTagIsRaw: TrailingTag returns the values as the text writes them (substrings of
// it, still URL-encoded), and Endpoint decodes them into TrailingEndpoint's answer; a value that
// is not valid URL encoding passes the scan and is refused by Endpoint.
func TestTrailingTagIsRaw(t *testing.T) {
	cases := []struct {
		sql      string
		tag      Tag
		endpoint string
		ok       bool
	}{
		{"SELECT 1 /*route='%2Fapi%2Fusers',traceparent='00-1'*/", Tag{Route: "%2Fapi%2Fusers"}, "/api/users", true},
		{"SELECT 1 /*route='a+b'*/", Tag{Route: "a+b"}, "a b", true},
		{"SELECT 1 /*action='show',controller='users'*/;", Tag{Controller: "users", Action: "show"}, "users#show", true},
		{"SELECT 1 /*route='',controller='c%2B',action='a'*/", Tag{Controller: "c%2B", Action: "a"}, "c+#a", true},
		{"SELECT 1 /*route='%zz'*/", Tag{Route: "%zz"}, "", false},
		{"SELECT 1 /*route='a b', controller='c'*/", Tag{Route: "a b"}, "a b", true},
		{"SELECT 1 /*route='x',route='y'*/", Tag{Route: "y"}, "y", true},
		{"SELECT 1 /*controller='c',action='%'*/", Tag{Controller: "c", Action: "%"}, "", false},
	}
	for _, c := range cases {
		tag, ok := TrailingTag(c.sql)
		if !ok || tag != c.tag {
			t.Errorf("TrailingTag(%q) = %+v, %v; want %+v", c.sql, tag, ok, c.tag)
			continue
		}
		ep, ok := tag.Endpoint()
		if ep != c.endpoint || ok != c.ok {
			t.Errorf("%+v.Endpoint() = %q, %v; want %q, %v", tag, ep, ok, c.endpoint, c.ok)
		}
		if ep2, ok2 := TrailingEndpoint(c.sql); ep2 != ep || ok2 != ok {
			t.Errorf("TrailingEndpoint(%q) = %q, %v; TrailingTag+Endpoint %q, %v", c.sql, ep2, ok2, ep, ok)
		}
	}
	for _, sql := range []string{"SELECT 1", "SELECT 1 /*controller='users'*/", "SELECT 1 -- /*route='x'*/",
		"/*,route='0'*/", "SELECT 1 /*x,route='y'*/", "SELECT 1 /*a='x'y,route='z'*/", "SELECT 1 /*rou%74e='x'*/", "/*route='*/'*/"} {
		if tag, ok := TrailingTag(sql); ok {
			t.Errorf("TrailingTag(%q) = %+v, want no answer", sql, tag)
		}
	}
}

// BenchmarkTrailingTag reads the tag of a text shaped like the real-shape bench data's (analytic
// SQL with a date, a sqlcommenter comment with a route and a trace id).
func BenchmarkTrailingTag(b *testing.B) {
	sql := "SELECT count(*) FROM t262 o WHERE o.tenant_id = 63479 AND o.ts >= '2026-03-01' AND (o.flags & 4) = 0 AND " +
		"(o.c0 >= 344 AND o.c0 < 565) AND (o.m1 & 59) <> 0 AND CASE WHEN o.v2 > 573 THEN 1 WHEN o.v2 <= 286 THEN 2 ELSE 0 END > 0 " +
		"/*application='shop',route='%2Fapi%2Fv1%2Fresource262%2F%3Aid',traceparent='00-963675cbd16cdf09c962c89dd814496f-05030b62cf0d2711-01'*/"
	for b.Loop() {
		if _, ok := TrailingTag(sql); !ok {
			b.Fatal("no tag")
		}
	}
}

// TestEndsInComment: a text ends in a comment when "*/" closes it before the statement's end
// (white space, semicolons), and every text TrailingTag names does.
func TestEndsInComment(t *testing.T) {
	for sql, want := range map[string]bool{
		"SELECT 1 /*route='%2Fa'*/":     true,
		"SELECT 1 /*route='%2Fa'*/ ;\n": true,
		"SELECT 1 /**/":                 true,
		"*/":                            false, // not a whole comment
		"SELECT 1":                      false,
		"SELECT '*/' FROM t":            false,
		"":                              false,
	} {
		if got := EndsInComment(sql); got != want {
			t.Errorf("EndsInComment(%q) = %v, want %v", sql, got, want)
		}
		if _, ok := TrailingTag(sql); ok && !EndsInComment(sql) {
			t.Errorf("%q: TrailingTag names it, EndsInComment says no", sql)
		}
	}
}
