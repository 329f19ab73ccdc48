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

// EachVectorVersion runs check with each version of a package's amd64 code: the baseline that
// every amd64 CPU runs (SSE2 code, or Go where the vector code needs more) and AVX2. *hasAVX2 is
// the package's switch between them, set from the CPU; it is restored after. The AVX2 run skips,
// or fails under SRCTL_TEST_DISALLOW_SKIP=1, on a CPU without AVX2.
func EachVectorVersion(t *testing.T, hasAVX2 *bool, check func(t *testing.T)) {
	t.Helper()
	cpuAVX2 := *hasAVX2
	defer func() { *hasAVX2 = cpuAVX2 }()
	t.Run("baseline", func(t *testing.T) {
		*hasAVX2 = false
		check(t)
	})
	t.Run("avx2", func(t *testing.T) {
		if !cpuAVX2 {
			SkipOrFail(t, "this CPU has no AVX2")
		}
		*hasAVX2 = true
		check(t)
	})
}
