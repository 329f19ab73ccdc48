package fingerprint

import (
	"strings"
	"testing"
)

const rulesYAML = `# first match wins
endpoints:
  - name: checkout
    match: '(?i)\bfrom\s+cart_items\b'
  - name: daily-report
    match: 'daily_sales_report'
  - name: checkout
    match: '(?i)insert\s+into\s+orders'
`

func TestRulesClassify(t *testing.T) {
	rs, err := ParseRules([]byte(rulesYAML), "rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if rs.Len() != 3 {
		t.Fatalf("%d rules", rs.Len())
	}
	for _, tc := range []struct{ sql, endpoint, source string }{
		{"SELECT * FROM cart_items WHERE user_id = 7", "checkout", SourceRule},
		{"insert INTO orders VALUES (1)", "checkout", SourceRule},
		{"SELECT sum(x) FROM daily_sales_report", "daily-report", SourceRule},
		// Tags win over rules.
		{"SELECT * FROM cart_items /*route='%2Fcart'*/", "/cart", SourceSQLCommenter},
		{"/*controller:carts,action:show*/ SELECT * FROM cart_items", "carts#show", SourceMarginalia},
		// Tags that name no endpoint fall through to the rules.
		{"SELECT * FROM cart_items /*traceparent='00-1'*/", "checkout", SourceRule},
	} {
		c := rs.Classify(tc.sql)
		if c.Endpoint != tc.endpoint || c.Source != tc.source {
			t.Errorf("%q: got %q (%s), want %q (%s)", tc.sql, c.Endpoint, c.Source, tc.endpoint, tc.source)
		}
	}
	// Nothing matches: the fingerprint class stands in, the same for every literal.
	a, b := rs.Classify("SELECT name FROM users WHERE id = 1"), rs.Classify("select name from users where id=99 /*traceparent='00-2'*/")
	if a.Source != SourceFingerprint || a.Endpoint != "fp:"+a.FingerprintID || a.Endpoint != b.Endpoint {
		t.Fatalf("fingerprint classes: %+v vs %+v", a, b)
	}
	// nil rules classify too.
	var none *Rules
	if c := none.Classify("SELECT 1"); c.Source != SourceFingerprint {
		t.Fatalf("nil rules: %+v", c)
	}
}

func TestIDIsShortAndStable(t *testing.T) {
	fp := Fingerprint("SELECT * FROM t WHERE id = 5")
	// Pinned (md5sum of the text, first 16 digits): the ID must not change between releases,
	// users store it.
	if got := ID(fp); got != Hash(fp)[:16] || len(got) != 16 {
		t.Fatalf("ID %q", got)
	}
	if got := ID("select * from t where id = ?"); got != "86a4fd498c70095e" {
		t.Fatalf("ID of a pinned fingerprint changed: %s", got)
	}
	if ID(fp) == ID(Fingerprint("SELECT * FROM t2 WHERE id = 5")) {
		t.Fatal("different classes share an ID")
	}
}

func TestParseRulesErrorsNameTheRule(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"endpoints:\n  - name: a\n    match: '('\n", "rule 1 (a): match \"(\""},
		{"endpoints:\n  - match: 'x'\n", "rule 1: name is empty"},
		{"endpoints:\n  - name: a\n    match: x\n  - name: b\n", "rule 2 (b): match is empty"},
		{"endpoints:\n  - name: a\n    regex: x\n", "field regex not found"},
		{"endpoints: [", "rules.yaml"},
	} {
		_, err := ParseRules([]byte(tc.yaml), "rules.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "rules.yaml") {
			t.Errorf("%q: error %v, want it to mention %q", tc.yaml, err, tc.want)
		}
	}
	if rs, err := ParseRules(nil, "empty.yaml"); err != nil || rs.Len() != 0 {
		t.Fatalf("empty file: %v %v", rs, err)
	}
}

// TestFingerprintTrickySQL pins the lexer's behaviour on SQL that trips naive fingerprinting.
func TestFingerprintTrickySQL(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"string containing /*", "SELECT a FROM t WHERE s = '/* not a comment */' AND b = 1", "select a from t where s = ? and b = ?"},
		{"string containing --", "SELECT a FROM t WHERE s = 'x -- y' AND b = 2", "select a from t where s = ? and b = ?"},
		{"escaped quote", `SELECT a FROM t WHERE s = 'it\'s' AND u = 'a''b' AND v = 3`, "select a from t where s = ? and u = ? and v = ?"},
		{"double-quoted with escape", `SELECT a FROM t WHERE s = "say \"hi\"" AND v = 4`, "select a from t where s = ? and v = ?"},
		// MySQL and StarRocks do not nest comments: the first */ ends it, the rest is SQL.
		{"nested comment", "SELECT /* outer /* inner */ a FROM t", "select a from t"},
		{"-- comment at end of line", "SELECT a -- pick a\nFROM t -- the table\nWHERE id = 5", "select a from t where id = ?"},
		{"# comment", "SELECT a # note\nFROM t", "select a from t"},
		{"unicode identifiers and literals", "SELECT 名前, café FROM ユーザー WHERE 名前 = 'Zoë' AND n = 1", "select 名前, café from ユーザー where 名前 = ? and n = ?"},
		{"unicode letters fold too", "SELECT ÉTÉ FROM T", "select été from t"},
		{"backquoted identifier keeps case", "SELECT `MixedCase` FROM `My Table`", "select `MixedCase` from `My Table`"},
		{"comment only", "/* nothing */", ""},
		{"unterminated comment", "SELECT a /* never closed", "select a"},
		{"IN list with strings containing commas", "SELECT a FROM t WHERE c IN ('a,b', 'c)d', 'e')", "select a from t where c in (?+)"},
	} {
		if got := Fingerprint(tc.in); got != tc.want {
			t.Errorf("%s: Fingerprint(%q)\n got %q\nwant %q", tc.name, tc.in, got, tc.want)
		}
	}
}
