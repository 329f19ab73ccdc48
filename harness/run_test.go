package harness

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/srctl/srctl/internal/testenv"
)

func openTestDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestRunTimeoutKillsTheQuery: a run past its timeout is killed on the server (the session
// stays usable, which it would not if the driver had dropped the connection) and reported as
// a timeout well before the query would have ended.
func TestRunTimeoutKillsTheQuery(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	ctl, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	var mu sync.Mutex
	s, err := OpenSession(ctx, db, ctl, &mu)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	start := time.Now()
	_, _, err = s.Run(ctx, "SELECT SLEEP(10), 1 FROM (SELECT 1) x", 300*time.Millisecond, nil, nil)
	// MariaDB answers a killed SLEEP() with its result (1) rather than an error; the run is a
	// timeout all the same, and it must come back quickly.
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("run took %v with a 300ms timeout", took)
	}
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("error %v does not say timeout", err)
	}
	var n int
	if _, _, err := s.Run(ctx, "SELECT 1", 0, func(cols []sql.RawBytes) error { n++; return nil }, nil); err != nil || n != 1 {
		t.Errorf("session unusable after the kill: %v (%d rows)", err, n)
	}

	// Statements before the last run in order on the same connection; only the last one's rows
	// are read.
	var got string
	_, types, err := s.Run(ctx, "SET @x = 'hello'; SELECT @x AS greeting", 0, func(cols []sql.RawBytes) error {
		got = string(cols[0])
		return nil
	}, nil)
	if err != nil || got != "hello" || len(types) != 1 || types[0].Name() != "greeting" {
		t.Errorf("multi-statement run: %v %q %v", err, got, types)
	}
}
