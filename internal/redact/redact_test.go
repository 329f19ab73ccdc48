package redact

import (
	"errors"
	"os"
	"strings"
	"testing"
)

const marker = "S3cr3tM4rk3r"

// dsnForms are the connection strings srctl accepts, each with the marker as its password.
var dsnForms = []string{
	"root:" + marker + "@tcp(127.0.0.1:1)/db",
	"root:" + marker + "@/db",
	"root:" + marker + "@unix(/tmp/x.sock)/db?parseTime=true",
	"root:pa@" + marker + "@tcp(h:1)/db",
	"root:" + marker + "/db",
	"mysql://root:" + marker + "@127.0.0.1:1/db",
	"mysql://root:" + marker + "%zz@127.0.0.1:1/db",
	"mysql://root:" + marker + "#x@127.0.0.1:1/db",
	"starrocks://u:" + marker + "@fe:9030/db",
	"postgres://u:" + marker + "@127.0.0.1:1/db?sslmode=disable",
	"postgres://127.0.0.1:1/db?password=" + marker,
	"host=127.0.0.1 port=1 user=u password=" + marker + " dbname=x",
	"host=127.0.0.1 password='" + marker + " with space' dbname=x",
	"password=" + marker,
	"https://u:" + marker + "@rest.example/catalog",
	"https://rest.example/catalog?token=" + marker,
}

func TestDSNHidesThePassword(t *testing.T) {
	for _, dsn := range dsnForms {
		got := DSN(dsn)
		if strings.Contains(got, marker) || strings.Contains(got, marker[:6]) {
			t.Errorf("DSN(%q) = %q", dsn, got)
		}
		if len(Secrets(dsn)) == 0 {
			t.Errorf("Secrets(%q) found none", dsn)
		}
		err := Error(errors.New("failed: "+dsn), Secrets(dsn)...)
		if strings.Contains(err.Error(), marker) {
			t.Errorf("Error for %q: %v", dsn, err)
		}
	}
	for dsn, want := range map[string]string{
		"root:pw@tcp(h:3306)/db":          "root:***@tcp(h:3306)/db",
		"tcp(h:3306)/db":                  "tcp(h:3306)/db",
		"mysql://root:pw@h:3306/db?x=1":   "mysql://root:***@h:3306/db?x=1",
		"mysql://root@h:3306/db":          "mysql://root@h:3306/db",
		"host=h user=u password=pw":       "host=h user=u password=***",
		"postgres://h/db?password=pw&a=b": "postgres://h/db?a=b&password=***",
		"mysql://root:p%zz@h:3306/db":     "mysql://***@h:3306/db",
		"":                                "",
	} {
		if got := DSN(dsn); got != want {
			t.Errorf("DSN(%q) = %q, want %q", dsn, got, want)
		}
	}
}

func TestUserNamesAreNotSecrets(t *testing.T) {
	msg := "Access denied for user 'root'@'10.0.0.1'"
	if got := Error(errors.New(msg), Secrets("mysql://root@db:3306/x")...).Error(); got != msg {
		t.Errorf("a database user name was masked: %q", got)
	}
	if got := Text("401 for tok3n-abcdef", Secrets("https://tok3n-abcdef@rest.example/v1")...); strings.Contains(got, "tok3n") {
		t.Errorf("a token in a REST URL survived: %q", got)
	}
}

func TestErrorKeepsTheKind(t *testing.T) {
	err := Error(&os.PathError{Op: "open", Path: "/x/" + marker, Err: os.ErrNotExist}, marker)
	if !errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), marker) {
		t.Errorf("%v: the kind is lost or the secret shown", err)
	}
	if Error(nil, marker) != nil {
		t.Error("Error(nil) is not nil")
	}
}

func FuzzDSN(f *testing.F) {
	f.Add(uint8(0), "")
	f.Add(uint8(6), "%zz")
	f.Add(uint8(11), "' x")
	f.Fuzz(func(t *testing.T, form uint8, extra string) {
		if strings.Contains(extra, marker[:3]) {
			t.Skip()
		}
		tmpl := dsnForms[int(form)%len(dsnForms)]
		dsn := strings.Replace(tmpl, marker, marker+extra, 1)
		if out := DSN(dsn); strings.Contains(out, marker) {
			t.Fatalf("DSN(%q) = %q", dsn, out)
		}
		if out := Text("error near "+dsn+": bad", Secrets(dsn)...); strings.Contains(out, marker) {
			t.Fatalf("Text for %q = %q", dsn, out)
		}
	})
}
