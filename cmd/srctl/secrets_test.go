package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const secretMarker = "Mk7SecretMarker"

// dsnWithMarker builds a connection string of one of the forms srctl accepts, with the marker
// (plus extra, which the fuzzer varies: '#', '%zz', '@', '/', quotes...) as the password, for
// a server on a closed port.
func dsnWithMarker(form uint8, user, extra string) string {
	pw := secretMarker + extra
	if user == "" {
		user = "u"
	}
	switch form % 7 {
	case 0:
		return user + ":" + pw + "@tcp(127.0.0.1:1)/db"
	case 1:
		return "mysql://" + user + ":" + pw + "@127.0.0.1:1/db"
	case 2:
		return "starrocks://" + user + ":" + pw + "@127.0.0.1:1/db?timeout=1s"
	case 3:
		return user + ":" + pw + "/db" // the '@' forgotten
	case 4:
		return "postgres://" + user + ":" + pw + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=1"
	case 5:
		return "host=127.0.0.1 port=1 user=" + user + " password='" + strings.ReplaceAll(pw, "'", `\'`) + "' dbname=db connect_timeout=1"
	default:
		return "postgres://" + user + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=1&password=" + pw
	}
}

// FuzzSecretsStayOut feeds connection strings with a marker password, in every form, through
// every command that parses or connects with one (compare-baseline --dsn, --lake-catalog-dsn,
// a --lake-config whose values are wrong), and checks that the marker appears in no output.
func FuzzSecretsStayOut(f *testing.F) {
	for form := range uint8(7) {
		for _, extra := range []string{"", "%zz", "#x", "@x", "/x", "?x=1", " sp", "'q", `\`, ":x", "%40"} {
			f.Add(form, "app", extra)
		}
	}
	dir := f.TempDir()
	sqlFile := filepath.Join(dir, "a.sql")
	os.WriteFile(sqlFile, []byte("SELECT 1"), 0o644)
	f.Fuzz(func(t *testing.T, form uint8, user, extra string) {
		if strings.Contains(user+extra, "Mk7") || strings.ContainsAny(user+extra, "\x00\n\r") || len(user)+len(extra) > 64 {
			t.Skip() // the marker must be the only place the secret could come from
		}
		dsn := dsnWithMarker(form, user, extra)
		check := func(what string, args ...string) {
			code, out, errOut := runCLI(context.Background(), args...)
			if strings.Contains(out+errOut, secretMarker) {
				t.Fatalf("%s with %q (exit %d) printed the secret:\n%s\n%s", what, dsn, code, out, errOut)
			}
		}
		if form%7 <= 3 {
			check("compare-baseline --dsn", "compare-baseline", "--quiet", "--dsn", dsn, "--baseline", sqlFile, "--candidate", sqlFile)
		} else {
			check("lake import --lake-catalog-dsn", "lake", "import", "--lake-catalog-dsn", dsn, "--lake-warehouse", "file://"+dir+"/wh",
				sqlFile, "iceberg://pg/ns.proxy_logs")
		}
		cfgFile := filepath.Join(t.TempDir(), "lake.yaml")
		t.Setenv("SRCTL_TEST_LAKE_DSN", dsn)
		os.WriteFile(cfgFile, []byte(fmt.Sprintf("catalogs:\n  pg:\n    type: postgres\n    dsn: ${SRCTL_TEST_LAKE_DSN}\n    warehouse: file://%s/wh\n    io: ${SRCTL_TEST_LAKE_DSN}\n", dir)), 0o600)
		check("--lake-config with a type error", "lake", "import", "--lake-config", cfgFile, sqlFile, "iceberg://pg/ns.proxy_logs")
		os.WriteFile(cfgFile, []byte(fmt.Sprintf("catalogs:\n  pg:\n    type: postgres\n    dsn: ${SRCTL_TEST_LAKE_DSN}\n    warehouse: file://%s/wh\n", dir)), 0o600)
		check("--lake-config", "lake", "import", "--lake-config", cfgFile, sqlFile, "iceberg://pg/ns.proxy_logs")
	})
}
