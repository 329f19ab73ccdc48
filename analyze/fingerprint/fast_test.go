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
	f.Fuzz(func(t *testing.T, sql string) {
		if ep, ok := TrailingEndpoint(sql); ok {
			var rs *Rules
			if want := rs.Classify(sql); ep != want.Endpoint || want.Source != SourceSQLCommenter {
				t.Errorf("TrailingEndpoint(%q) = %q, Classify says %q (%s)", sql, ep, want.Endpoint, want.Source)
			}
		}
	})
}
