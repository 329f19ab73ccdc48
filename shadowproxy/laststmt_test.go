package shadowproxy

import (
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
)

// pipeliner is a raw client that sends several commands before it reads their answers, as
// MariaDB Connector/J and Node.js do with a prepare and the execute of the statement it makes.
type pipeliner struct {
	t  *testing.T
	cc *mysqlwire.ClientConn
	fc mysqlwire.FrameConn
}

func dialPipeliner(t *testing.T, addr, db string) *pipeliner {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	cc, err := mysqlwire.Connect(nc, mysqlwire.ClientConfig{User: "root", DB: db, Caps: recorderCaps, ExtCaps: mysqlwire.MariaDBStmtBulk})
	if err != nil {
		t.Fatalf("connecting to %s: %v", addr, err)
	}
	return &pipeliner{t: t, cc: cc, fc: mysqlwire.FrameConn{R: cc.R, W: cc.NC}}
}

// send writes the commands in one write and reads their answers in order; a command that gets
// no answer (COM_STMT_CLOSE) gets a nil one.
func (p *pipeliner) send(cmds ...[]byte) []*response {
	p.t.Helper()
	p.cc.NC.SetDeadline(time.Now().Add(20 * time.Second))
	var out []byte
	for _, c := range cmds {
		out = mysqlwire.AppendFrames(out, c, 0)
	}
	if _, err := p.cc.NC.Write(out); err != nil {
		p.t.Fatal(err)
	}
	answers := make([]*response, len(cmds))
	for i, c := range cmds {
		r := &response{}
		r.reset(p.cc.Caps, p.cc.ExtCaps, c[0])
		if r.expect == expectNone {
			continue
		}
		for !r.done() {
			f, _, err := p.fc.ReadFrame()
			if err != nil {
				p.t.Fatalf("reading the answer to command %d (%s): %v", i, commandName(c[0]), err)
			}
			r.frame(f)
		}
		answers[i] = r
	}
	return answers
}

// hasShadowRow is a waitRows condition: a shadow row of command cmd has been logged.
func hasShadowRow(cmd string) func([]lakehouse.ProxyLogRecord) bool {
	return func(rs []lakehouse.ProxyLogRecord) bool {
		for _, r := range rs {
			if r.Target == "shadow" && r.Command == cmd {
				return true
			}
		}
		return false
	}
}

func prepareCmd(sql string) []byte { return append([]byte{comStmtPrepare}, sql...) }

// executeCmd executes statement id with one LONGLONG parameter.
func executeCmd(id uint32, param int64) []byte {
	b := []byte{comStmtExecute, 0, 0, 0, 0, 0, 1, 0, 0, 0,
		0,          // NULL bitmap
		1,          // types follow
		0x08, 0x00} // LONGLONG
	binary.LittleEndian.PutUint32(b[1:], id)
	return binary.LittleEndian.AppendUint64(b, uint64(param))
}

func closeCmd(id uint32) []byte {
	return binary.LittleEndian.AppendUint32([]byte{comStmtClose}, id)
}

// TestPipelinedExecuteOfTheLastStatement: an execute naming statement 0xffffffff, MariaDB's "the
// statement prepared last", is logged with that statement's text, judged by its kind, and
// mirrored with the shadow's own id for it; with no statement prepared last (a failed prepare, a
// closed statement) it is an unknown statement, judged a write, and the shadow runs nothing.
func TestPipelinedExecuteOfTheLastStatement(t *testing.T) {
	paddr, db := primaryAddr(t)
	setup := openDB(t, "root@tcp("+paddr+")/"+db)
	mustExec(t, setup, "DROP TABLE IF EXISTS laststmt", "CREATE TABLE laststmt (id INT PRIMARY KEY, v VARCHAR(10))",
		"INSERT INTO laststmt VALUES (1,'a'),(2,'b'),(3,'c')")
	sink := &memSink{}
	_, addr := startProxy(t, Config{Primary: paddr, Shadow: paddr, ShadowUser: "root", Sink: sink, DialTimeout: 2 * time.Second})
	c := dialPipeliner(t, addr, db)

	const selectSQL = "SELECT v FROM laststmt WHERE id = ?"
	const deleteSQL = "DELETE FROM laststmt WHERE id = ?"
	// 1. prepare + execute(last), pipelined: the read runs on both sides.
	a := c.send(prepareCmd(selectSQL), executeCmd(lastStmtID, 2))
	if a[0].err != nil || a[1].err != nil {
		t.Fatalf("prepare+execute through the proxy: %v / %v", a[0].err, a[1].err)
	}
	selectID := a[0].stmtID
	// 2. a write prepared and executed the same way is a write: not mirrored by default.
	a = c.send(prepareCmd(deleteSQL), executeCmd(lastStmtID, 3))
	if a[0].err != nil || a[1].err != nil {
		t.Fatalf("prepare+execute of the DELETE: %v / %v", a[0].err, a[1].err)
	}
	// 3. a failed prepare leaves no last statement: MariaDB refuses the execute, and the DELETE
	// prepared before must not be what the log or the shadow takes it for.
	a = c.send(prepareCmd("SELEC nonsense ?"), executeCmd(lastStmtID, 1))
	if a[0].err == nil || a[1].err == nil {
		t.Fatalf("a failed prepare then execute(last): want two errors, got %v / %v", a[0].err, a[1].err)
	}
	// 4. prepared, closed, executed: refused as well.
	a = c.send(prepareCmd(selectSQL), closeCmd(selectID+100), executeCmd(lastStmtID, 1)) // closing another id keeps it
	if a[2].err != nil {
		t.Fatalf("execute(last) after closing another statement: %v", a[2].err)
	}
	lastID := a[0].stmtID
	a = c.send(closeCmd(lastID), executeCmd(lastStmtID, 1))
	if a[1].err == nil {
		t.Fatal("execute(last) after closing it: want an error")
	}

	executes := func(rs []lakehouse.ProxyLogRecord) (primary, shadow []lakehouse.ProxyLogRecord) {
		byQID := map[string]lakehouse.ProxyLogRecord{}
		for _, r := range rs {
			if r.Command == "COM_STMT_EXECUTE" && r.Target == "shadow" {
				byQID[r.QueryID] = r
			}
		}
		for _, r := range rs {
			if r.Command == "COM_STMT_EXECUTE" && r.Target == "primary" {
				if s, ok := byQID[r.QueryID]; ok {
					primary, shadow = append(primary, r), append(shadow, s)
				}
			}
		}
		return primary, shadow
	}
	rows := sink.waitRows(t, "five executes on both sides", func(rs []lakehouse.ProxyLogRecord) bool {
		p, _ := executes(rs)
		return len(p) == 5
	})
	primary, shadow := executes(rows)
	want := []struct {
		text                string
		primaryOK, ranThere bool
	}{
		{selectSQL, true, true},
		{deleteSQL, true, false}, // filtered: writes are not mirrored by default
		{"", false, false},       // after the failed prepare
		{selectSQL, true, true},
		{"", false, false}, // after closing it
	}
	for i, w := range want {
		p, s := primary[i], shadow[i]
		if p.QueryText != w.text || p.Success != w.primaryOK {
			t.Errorf("execute %d on the primary: text %q success %v (%s), want %q %v", i+1, p.QueryText, p.Success, p.Error, w.text, w.primaryOK)
		}
		ran := !s.Dropped && !s.Filtered
		if ran != w.ranThere {
			t.Errorf("execute %d on the shadow: ran %v (dropped %v %s, filtered %v %s, error %q), want ran %v",
				i+1, ran, s.Dropped, s.DropReason, s.Filtered, s.FilterReason, s.Error, w.ranThere)
		}
		if ran && (!s.Success || s.ResultSetHash != p.ResultSetHash || s.ResultSetHash == "") {
			t.Errorf("execute %d on the shadow: success %v (%s), result %s, primary's %s", i+1, s.Success, s.Error, s.ResultSetHash, p.ResultSetHash)
		}
	}
	var n int
	if err := setup.QueryRow("SELECT COUNT(*) FROM laststmt").Scan(&n); err != nil || n != 2 {
		t.Errorf("rows left: %d (%v), want 2: the DELETE ran once, on the primary only", n, err)
	}
}

// TestUnknownLastStatementIsNotMirrored: with writes mirrored, an execute of 0xffffffff after a
// failed prepare reaches no shadow statement at all (the shadow's own last statement could be
// anything the session prepared there): it is dropped as not prepared.
func TestUnknownLastStatementIsNotMirrored(t *testing.T) {
	paddr, db := primaryAddr(t)
	sink := &memSink{}
	_, addr := startProxy(t, Config{Primary: paddr, Shadow: paddr, ShadowUser: "root", Sink: sink, DialTimeout: 2 * time.Second,
		Policy: Policy{MirrorWrites: true}})
	c := dialPipeliner(t, addr, db)
	a := c.send(prepareCmd("SELECT ? + 1"), prepareCmd("SELEC nonsense ?"), executeCmd(lastStmtID, 1))
	if a[0].err != nil || a[1].err == nil || a[2].err == nil {
		t.Fatalf("prepare, failed prepare, execute(last): %v / %v / %v", a[0].err, a[1].err, a[2].err)
	}
	rows := sink.waitRows(t, "the execute's shadow row", hasShadowRow("COM_STMT_EXECUTE"))
	for _, r := range rows {
		if r.Target == "shadow" && r.Command == "COM_STMT_EXECUTE" && (!r.Dropped || r.DropReason != DropStmtNotPrepared) {
			t.Errorf("shadow row of the execute: dropped %v %q, error %q; want dropped as %s", r.Dropped, r.DropReason, r.Error, DropStmtNotPrepared)
		}
	}
}

// TestBulkExecuteReachesTheShadow: a client that has MariaDB's bulk operations with the primary
// sends COM_STMT_BULK_EXECUTE; the shadow session has them too, or a MariaDB shadow refuses every
// copy and the analysis sees shadow errors that are the proxy's doing.
func TestBulkExecuteReachesTheShadow(t *testing.T) {
	paddr, db := primaryAddr(t)
	setup := openDB(t, "root@tcp("+paddr+")/"+db)
	mustExec(t, setup, "DROP TABLE IF EXISTS bulkcopy", "CREATE TABLE bulkcopy (v BIGINT)")
	sink := &memSink{}
	_, addr := startProxy(t, Config{Primary: paddr, Shadow: paddr, ShadowUser: "root", Sink: sink, DialTimeout: 2 * time.Second,
		Policy: Policy{MirrorWrites: true}})
	c := dialPipeliner(t, addr, db)
	if c.cc.ExtCaps&mysqlwire.MariaDBStmtBulk == 0 {
		t.Fatal("the primary did not grant bulk operations: the test proves nothing")
	}
	a := c.send(prepareCmd("INSERT INTO bulkcopy VALUES (?)"))
	if a[0].err != nil {
		t.Fatal(a[0].err)
	}
	bulk := binary.LittleEndian.AppendUint32([]byte{comStmtBulkExecute}, a[0].stmtID)
	bulk = append(bulk, 128, 0, 0x08, 0x00) // types sent; one LONGLONG
	for v := range 3 {
		bulk = binary.LittleEndian.AppendUint64(append(bulk, 0), uint64(v)) // indicator NONE, value
	}
	if a = c.send(bulk); a[0].err != nil {
		t.Fatalf("bulk execute on the primary: %v", a[0].err)
	}
	rows := sink.waitRows(t, "the bulk execute's shadow row", hasShadowRow("COM_STMT_BULK_EXECUTE"))
	for _, r := range rows {
		if r.Target == "shadow" && r.Command == "COM_STMT_BULK_EXECUTE" && (!r.Success || r.AffectedRows == nil || *r.AffectedRows != 3) {
			t.Errorf("the shadow's bulk execute: success %v, error %q, dropped %v %s, affected %v; want 3 rows inserted",
				r.Success, r.Error, r.Dropped, r.DropReason, r.AffectedRows)
		}
	}
}

// TestLastStatementAfterCutover: after a cutover the new source holds the client's statements
// prepared again in no particular order, so its own "last statement" is any of them. An execute
// of 0xffffffff must still run the one the client prepared last: the proxy names it.
func TestLastStatementAfterCutover(t *testing.T) {
	paddr, db := primaryAddr(t)
	shadow := testenv.StartMariaDB(t)
	mustExec(t, openDB(t, shadow.DSN("")), "CREATE DATABASE IF NOT EXISTS "+db)
	sink := &memSink{}
	p, addr := startProxy(t, Config{Primary: paddr, Shadow: shadow.Addr, ShadowUser: "root", Sink: sink, AllowCutover: true})
	c := dialPipeliner(t, addr, db)
	var texts []string
	var ids []uint32
	for i := range 8 {
		texts = append(texts, fmt.Sprintf("SELECT %d + ?", i))
		a := c.send(prepareCmd(texts[i]))
		if a[0].err != nil {
			t.Fatal(a[0].err)
		}
		ids = append(ids, a[0].stmtID)
	}
	sink.waitRows(t, "the prepares on the shadow", func(rs []lakehouse.ProxyLogRecord) bool {
		n := 0
		for _, r := range rs {
			if r.Target == "shadow" && r.Command == "COM_STMT_PREPARE" && r.Success {
				n++
			}
		}
		return n == 8
	})
	// The shadow session is cut and opened again: the statements are prepared there anew from
	// the session's state, in no particular order.
	admin := openDB(t, shadow.DSN(""))
	for reopened, failed, i := false, false, 0; !reopened; i++ {
		if i == 0 {
			var conns []int64
			rs, err := admin.Query("SELECT id FROM information_schema.processlist WHERE user = 'root' AND id <> CONNECTION_ID()")
			if err != nil {
				t.Fatal(err)
			}
			for rs.Next() {
				var id int64
				rs.Scan(&id)
				conns = append(conns, id)
			}
			rs.Close()
			for _, id := range conns {
				admin.Exec(fmt.Sprintf("KILL %d", id))
			}
		}
		if i == 300 { // 15 s: a failed reconnect waits ReconnectBackoff (2 s) before the next
			for _, r := range sink.all() {
				if r.Target == "shadow" {
					t.Logf("%s %q ok=%v err=%q dropped=%v %s", r.Command, r.QueryText, r.Success, r.Error, r.Dropped, r.DropReason)
				}
			}
			t.Fatal("the shadow session was not opened again")
		}
		if failed {
			time.Sleep(50 * time.Millisecond)
		}
		c.send(append([]byte{comQuery}, fmt.Sprintf("SELECT %d", i)...))
		text := fmt.Sprintf("SELECT %d", i)
		rows := sink.waitRows(t, "the shadow row of "+text, func(rs []lakehouse.ProxyLogRecord) bool {
			for _, r := range rs {
				if r.Target == "shadow" && r.QueryText == text {
					return true
				}
			}
			return false
		})
		for _, r := range rows {
			if r.Target == "shadow" && r.QueryText == text {
				failed = failed || !r.Success
				reopened = failed && r.Success
			}
		}
	}
	if err := p.SetSource(SourceShadow); err != nil {
		t.Fatal(err)
	}
	// The last statement, then the same and the first by their ids: the answers tell which ran.
	a := c.send(executeCmd(lastStmtID, 100), executeCmd(ids[7], 100), executeCmd(ids[0], 100))
	if a[0].err != nil || a[1].err != nil || a[2].err != nil {
		t.Fatalf("executes after the cutover: %v / %v / %v", a[0].err, a[1].err, a[2].err)
	}
	rows := sink.waitRows(t, "the executes' source rows", func(rs []lakehouse.ProxyLogRecord) bool {
		n := 0
		for _, r := range rs {
			if r.Role == "source" && r.Command == "COM_STMT_EXECUTE" {
				n++
			}
		}
		return n == 3
	})
	var got []lakehouse.ProxyLogRecord
	for _, r := range rows {
		if r.Role == "source" && r.Command == "COM_STMT_EXECUTE" {
			got = append(got, r)
		}
	}
	if got[0].Target != "shadow" || got[0].QueryText != texts[7] {
		t.Errorf("execute(last) logged on %s as %q, want on the shadow as %q", got[0].Target, got[0].QueryText, texts[7])
	}
	if got[0].ResultSetHash != got[1].ResultSetHash || got[1].ResultSetHash == got[2].ResultSetHash {
		t.Errorf("execute(last) answered %s; statement 7 answers %s, statement 0 %s: the new source ran another statement than the last",
			got[0].ResultSetHash, got[1].ResultSetHash, got[2].ResultSetHash)
	}
}

// TestLastStatementIDOnlyWhereTheSourceReadsIt: a source that does not read 0xffffffff as the
// statement prepared last (StarRocks, MySQL: CLIENT_MYSQL in the greeting) gets no such reading.
func TestLastStatementIDOnlyWhereTheSourceReadsIt(t *testing.T) {
	s := &session{src: &backend{}, lastPrepared: 7}
	if got := s.resolveStmt(lastStmtID); got != lastStmtID {
		t.Errorf("a source without it: %d, want %d kept", got, uint32(lastStmtID))
	}
	s.src.takesLastStmt = true
	if got := s.resolveStmt(lastStmtID); got != 7 {
		t.Errorf("a MariaDB source: %d, want 7", got)
	}
	if got := s.resolveStmt(5); got != 5 {
		t.Errorf("an ordinary id: %d, want 5", got)
	}
	s.lastPrepared = lastStmtID // none
	if got := s.resolveStmt(lastStmtID); got != lastStmtID {
		t.Errorf("no statement prepared last: %d, want %d kept", got, uint32(lastStmtID))
	}
}
