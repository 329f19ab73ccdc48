package harness

import (
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	for dsn, want := range map[string][4]string{
		"root:s3cret@tcp(db:9030)/shop?timeout=5s": {"root", "s3cret", "db:9030", "shop"},
		"mysql://app:p%40ss@db.internal/analytics": {"app", "p@ss", "db.internal:3306", "analytics"},
		"starrocks://app@fe1:9030/":                {"app", "", "fe1:9030", ""},
		"starrocks://app@fe1/x":                    {"app", "", "fe1:9030", "x"},
	} {
		cfg, err := ParseDSN(dsn)
		if err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		if got := [4]string{cfg.User, cfg.Passwd, cfg.Addr, cfg.DBName}; got != want {
			t.Errorf("%s: %v, want %v", dsn, got, want)
		}
	}
	if _, err := ParseDSN("root:topsecret@tcp(db:9030/x"); err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("bad DSN: %v (must fail without printing the password)", err)
	}
	if _, err := ParseDSN(""); err == nil || !strings.Contains(err.Error(), "SRCTL_DSN") {
		t.Errorf("empty DSN: %v", err)
	}
}

func TestRedact(t *testing.T) {
	for dsn, want := range map[string]string{
		"root:s3cret@tcp(db:9030)/shop":    "root:***@tcp(db:9030)/shop",
		"root@tcp(db:9030)/shop":           "root@tcp(db:9030)/shop",
		"mysql://app:p%40ss@db:3306/a?x=1": "mysql://app:***@db:3306/a?x=1",
		"mysql://app@db:3306/a":            "mysql://app@db:3306/a",
		"u:p@ss:w@rd@tcp(h:1)/d":           "u:***@tcp(h:1)/d",
		"mysql://u:pa ss%zz@h/d":           "mysql://***@h/d",
	} {
		if got := Redact(dsn); got != want {
			t.Errorf("Redact(%q) = %q, want %q", dsn, got, want)
		}
	}
}
