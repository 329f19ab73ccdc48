package shadowproxy

import (
	"bufio"
	"context"
	"encoding/binary"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/srctl/srctl/analyze/sqlclass/sqlclasstest"
	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
)

// TestHostileStatementsNeverReachTheShadow sends the hostile corpus through the proxy as a
// client that may only SELECT on the primary, with the shadow logged in as root and no
// --mirror-writes: every statement gets a filtered shadow row naming why, and the shadow's
// tables, sequences, routines, globals, accounts and files are as they were. Reads and
// session settings sent in between are still mirrored.
func TestHostileStatementsNeverReachTheShadow(t *testing.T) {
	paddr, _ := primaryAddr(t)
	const dbName = "srctl_guard"
	admin := openDB(t, "root@tcp("+paddr+")/")
	testenv.GuardFixture(t, admin, dbName)
	mustExec(t, admin, "DROP USER IF EXISTS 'srctl_guard_ro'@'%'", "CREATE USER 'srctl_guard_ro'@'%'",
		"GRANT SELECT ON "+dbName+".* TO 'srctl_guard_ro'@'%'")
	t.Cleanup(func() {
		admin.Exec("DROP USER IF EXISTS 'srctl_guard_ro'@'%'")
		admin.Exec("DROP DATABASE IF EXISTS " + dbName)
	})

	shadow := testenv.StartMariaDB(t)
	shadowAdmin := openDB(t, shadow.DSN(""))
	testenv.GuardFixture(t, shadowAdmin, dbName)
	before := testenv.ServerState(t, shadowAdmin, dbName)

	sink := &memSink{}
	_, addr := startProxy(t, Config{Primary: paddr, Shadow: shadow.Addr, ShadowUser: "root", Sink: sink,
		Policy: Policy{SampleRate: 1}})
	client := openDB(t, "srctl_guard_ro@tcp("+addr+")/"+dbName+"?multiStatements=true")
	conn, err := client.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	reads := []string{"SELECT COUNT(*) FROM t", "SET @y = 1", "SELECT @y"}
	for _, stmt := range sqlclasstest.Hostile {
		conn.ExecContext(context.Background(), stmt) // the primary refuses most of them: that is not the point
	}
	for _, stmt := range reads {
		if _, err := conn.ExecContext(context.Background(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	want := len(sqlclasstest.Hostile) + len(reads)
	rows := sink.waitRows(t, "a shadow row per statement", func(rs []lakehouse.ProxyLogRecord) bool {
		return countRows(rs, "shadow", "COM_QUERY") >= want
	})
	for _, r := range rows {
		if r.Target != "shadow" || r.Command != "COM_QUERY" {
			continue
		}
		switch {
		case slices.Contains(reads, r.QueryText):
			if r.Filtered {
				t.Errorf("%q was not mirrored (%s)", r.QueryText, r.FilterReason)
			}
		case !r.Filtered || !slices.Contains([]string{ReasonSQLOperation, ReasonUnclassified, ReasonLoadDataLocal}, r.FilterReason):
			t.Errorf("%q reached the shadow (filtered %v, reason %q)", r.QueryText, r.Filtered, r.FilterReason)
		}
	}
	if after := testenv.ServerState(t, shadowAdmin, dbName); after != before {
		t.Errorf("the shadow changed:\n%s", testenv.StateChanges(before, after))
	}
}

// TestHandshakesAreCapped: beyond MaxHandshakes connections logging in at once, the next one
// gets error 1040 at once; when one of them leaves, a client logs in again.
func TestHandshakesAreCapped(t *testing.T) {
	paddr, db := primaryAddr(t)
	p, addr := startProxy(t, Config{Primary: paddr, Shadow: paddr, MaxHandshakes: 2})
	var silent []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fc := mysqlwire.FrameConn{R: bufio.NewReader(c), W: c}
		if _, _, err := fc.ReadPacket(); err != nil { // the greeting: the slot is taken
			t.Fatal(err)
		}
		silent = append(silent, c)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fc := mysqlwire.FrameConn{R: bufio.NewReader(c), W: c}
	pkt, _, err := fc.ReadPacket()
	if err != nil || len(pkt) < 3 || pkt[0] != 0xff || binary.LittleEndian.Uint16(pkt[1:]) != 1040 {
		t.Fatalf("the third connection logging in: %x %v, want ERR 1040", pkt, err)
	}
	if p.Stats().HandshakesRefused.Load() != 1 {
		t.Errorf("handshakes refused: %d, want 1", p.Stats().HandshakesRefused.Load())
	}
	silent[0].Close()
	client := openDB(t, "root@tcp("+addr+")/"+db)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := client.Ping()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no login after a slot was freed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
