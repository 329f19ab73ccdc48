package fingerprint

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQueryHashIsMD5OfExactBytes(t *testing.T) {
	// md5("SELECT 1") computed independently (echo -n 'SELECT 1' | md5sum).
	if got := QueryHash("SELECT 1"); got != "b1698e52a0f16203489454196a0c6307" {
		t.Fatal(got)
	}
	if QueryHash("SELECT 1") == QueryHash("SELECT 1 ") {
		t.Fatal("hash must be over the exact text")
	}
	if QueryHash("") != "" {
		t.Fatal("empty text has no hash")
	}
}

func TestFingerprint(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT * FROM users WHERE id = 123", "select * from users where id = ?"},
		{"select *\n  from users where id=456 -- trailing", "select * from users where id = ?"},
		{"SELECT a FROM t WHERE s = 'it''s' AND d = \"x\\\"y\" AND f > -1.5e3", "select a from t where s = ? and d = ? and f > ?"},
		{"SELECT a FROM t WHERE id IN (1, 2, 3) AND b in ('x')", "select a from t where id in (?+) and b in (?+)"},
		{"INSERT INTO t VALUES (1,'a'),(2,'b'), (3, 'c')", "insert into t values (?+)"},
		{"SELECT COUNT(*) FROM `Orders` o JOIN t2 ON o.id=t2.id /*traceparent='00-abc'*/", "select count(*) from `Orders` o join t2 on o.id = t2.id"},
		{"/*application:App,controller:users*/ SELECT x - 1 FROM t1_2024 WHERE flag = TRUE", "select x - ? from t1_2024 where flag = ?"},
		{"SELECT a FROM t WHERE x <= 0x1F AND y != 2", "select a from t where x <= ? and y != ?"},
		{"SELECT /*+ SET_VAR(query_timeout=10) */ 1", "select ?"},
		{"select 'unterminated", "select ?"},
	} {
		if got := Fingerprint(tc.in); got != tc.want {
			t.Errorf("Fingerprint(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	a := Fingerprint("SELECT * FROM t WHERE id = 1 /*traceparent='00-1'*/")
	b := Fingerprint("select *   FROM t where id=99 /*traceparent='00-2'*/")
	if a != b {
		t.Fatalf("same class, different fingerprints: %q vs %q", a, b)
	}
}

func TestTagsSQLCommenter(t *testing.T) {
	sql := `SELECT * FROM t /*action='show',controller='users',route='%2Fapi%2Fusers%2F%3Aid',traceparent='00-5bd6-01',who='o\'brien'*/`
	tags, src := Tags(sql)
	if src != SourceSQLCommenter {
		t.Fatalf("source %q", src)
	}
	if tags["route"] != "/api/users/:id" || tags["who"] != "o'brien" || tags["controller"] != "users" {
		t.Fatalf("tags %v", tags)
	}
	if Endpoint(tags) != "/api/users/:id" {
		t.Fatal(Endpoint(tags))
	}
	// The last comment wins.
	tags, _ = Tags(`/*route='first'*/ SELECT 1 /*route='last'*/`)
	if tags["route"] != "last" {
		t.Fatalf("want last comment, got %v", tags)
	}
	// Comment-like text inside a string literal is not a tag.
	if tags, _ := Tags(`SELECT '/*route=''x''*/'`); tags != nil {
		t.Fatalf("tags from a literal: %v", tags)
	}
}

func TestTagsMarginalia(t *testing.T) {
	tags, src := Tags("/*application:Shop,controller:orders,action:index*/ SELECT 1")
	if src != SourceMarginalia || Endpoint(tags) != "orders#index" {
		t.Fatalf("%v %q %q", tags, src, Endpoint(tags))
	}
	if tags, _ := Tags("SELECT 1 /* just a note */"); tags != nil {
		t.Fatalf("plain comment read as tags: %v", tags)
	}
}

func FuzzFingerprint(f *testing.F) {
	for _, s := range []string{"SELECT 1", "select 'a''b' /* c */ -- d\n", "IN (1,2", "VALUES (1),(", "/*route='x'*/", "`a``b`", "\xff\xfe'", "0x", "1e+", "-", "/*a:b,controller:c*/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		fp := Fingerprint(sql)
		if len(fp) > 3*len(sql)+8 { // at most a space and a character per input byte, plus "(?+)"
			t.Fatalf("fingerprint grew: %d -> %d", len(sql), len(fp))
		}
		if utf8.ValidString(sql) && !utf8.ValidString(fp) {
			t.Fatalf("valid input gave invalid UTF-8 fingerprint %q", fp)
		}
		if Fingerprint(fp) != Fingerprint(Fingerprint(fp)) {
			t.Fatalf("not stable on its own output: %q", fp)
		}
		tags, _ := Tags(sql)
		_ = Endpoint(tags)
		_ = strings.TrimSpace(fp)
	})
}
