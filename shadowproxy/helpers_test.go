package shadowproxy

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
)

// memSink keeps log rows in memory.
type memSink struct {
	mu   sync.Mutex
	rows []*lakehouse.ProxyLogRecord
}

func (m *memSink) Write(r *lakehouse.ProxyLogRecord) {
	m.mu.Lock()
	m.rows = append(m.rows, r)
	m.mu.Unlock()
}

func (m *memSink) all() []lakehouse.ProxyLogRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]lakehouse.ProxyLogRecord, len(m.rows))
	for i, r := range m.rows {
		out[i] = *r
	}
	return out
}

// waitRows waits until pred holds for the rows (the shadow's rows arrive asynchronously).
func (m *memSink) waitRows(t *testing.T, what string, pred func([]lakehouse.ProxyLogRecord) bool) []lakehouse.ProxyLogRecord {
	t.Helper()
	return m.waitRowsFor(t, 10*time.Second, what, pred)
}

// waitRowsFor is waitRows with a deadline of its own.
func (m *memSink) waitRowsFor(t *testing.T, limit time.Duration, what string, pred func([]lakehouse.ProxyLogRecord) bool) []lakehouse.ProxyLogRecord {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		rows := m.all()
		if pred(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, r := range rows {
				fmt.Fprintf(&b, "  %s %s %q err=%q dropped=%v filtered=%v\n", r.Target, r.Command, r.QueryText, r.Error, r.Dropped, r.Filtered)
			}
			t.Fatalf("timed out waiting for %s; rows:\n%s", what, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// primaryAddr is the local MariaDB of SRCTL_TEST_MYSQL_DSN.
func primaryAddr(t testing.TB) (addr, db string) {
	t.Helper()
	cfg, err := mysql.ParseDSN(testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Addr, cfg.DBName
}

// startProxy serves cfg on a loopback port until the test ends.
func startProxy(t testing.TB, cfg Config) (*Proxy, string) {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go p.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.Shutdown(ctx)
	})
	return p, ln.Addr().String()
}

func openDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// startStalled is a server that accepts connections and never says a word (a hung shadow);
// its connections close with the test.
func startStalled(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
