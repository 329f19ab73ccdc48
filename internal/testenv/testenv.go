// Package testenv gives tests the services CI starts (see .ci/run) and one rule for when they
// are missing: skip on a developer's machine, fail under SRCTL_TEST_DISALLOW_SKIP=1, where a
// skip would let a test pass without running.
package testenv

import (
	"os"
	"testing"
)

// SkipOrFail skips t, or fails it when SRCTL_TEST_DISALLOW_SKIP=1.
func SkipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("SRCTL_TEST_DISALLOW_SKIP") == "1" {
		t.Fatalf("would skip (%s), but SRCTL_TEST_DISALLOW_SKIP=1 forbids skipping", why)
	}
	t.Skip(why)
}

// MySQLDSN returns SRCTL_TEST_MYSQL_DSN (a go-sql-driver/mysql DSN of a MySQL or MariaDB
// server, e.g. "root@tcp(127.0.0.1:3306)/test"), skipping or failing t when it is unset.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("SRCTL_TEST_MYSQL_DSN")
	if dsn == "" {
		SkipOrFail(t, "SRCTL_TEST_MYSQL_DSN is not set (CI sets it to the local MariaDB)")
	}
	return dsn
}

// PostgresDSN returns SRCTL_TEST_POSTGRES_DSN (a PostgreSQL URL, e.g.
// "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), skipping or failing t when it is unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("SRCTL_TEST_POSTGRES_DSN")
	if dsn == "" {
		SkipOrFail(t, "SRCTL_TEST_POSTGRES_DSN is not set (CI sets it to the local PostgreSQL)")
	}
	return dsn
}
