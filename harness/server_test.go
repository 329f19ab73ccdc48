package harness

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/internal/testenv"
)

// TestDetectMariaDB runs against the real MariaDB CI starts.
func TestDetectMariaDB(t *testing.T) {
	db, err := sql.Open("mysql", testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s, err := Detect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != MariaDB || !strings.Contains(s.Version, "MariaDB") {
		t.Errorf("detected %+v, want MariaDB", s)
	}
	stmts, caveat := ColdSettings(ctx, conn, s)
	for _, st := range stmts {
		if _, err := conn.ExecContext(ctx, st); err != nil {
			t.Errorf("cold setting %q: %v", st, err)
		}
	}
	if !strings.Contains(caveat, "buffer pool") {
		t.Errorf("caveat %q should say what --cold cannot do", caveat)
	}
}
