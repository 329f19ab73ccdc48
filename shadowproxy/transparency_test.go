package shadowproxy

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
)

// recorder is a raw MySQL client that records every byte of every answer it gets.
type recorder struct {
	t    *testing.T
	cc   *mysqlwire.ClientConn
	fc   mysqlwire.FrameConn
	resp response
	log  bytes.Buffer
}

const recorderCaps = mysqlwire.ClientMultiStatements | mysqlwire.ClientMultiResults | mysqlwire.ClientPSMultiResults |
	mysqlwire.ClientDeprecateEOF | mysqlwire.ClientFoundRows

func dialRecorder(t *testing.T, addr, db string) *recorder {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	cc, err := mysqlwire.Connect(nc, mysqlwire.ClientConfig{User: "root", DB: db, Caps: recorderCaps})
	if err != nil {
		t.Fatalf("connecting to %s: %v", addr, err)
	}
	return &recorder{t: t, cc: cc, fc: mysqlwire.FrameConn{R: cc.R, W: cc.NC}}
}

// do sends one command and records its whole answer, frame headers included.
func (r *recorder) do(payload []byte) {
	r.t.Helper()
	r.cc.NC.SetDeadline(time.Now().Add(20 * time.Second))
	// A server that refuses a packet (max_allowed_packet) answers and closes before it has
	// read all of it: the write fails, the answer is still there to read.
	werr := r.fc.WriteFrames(payload, 0)
	r.resp.reset(r.cc.Caps, r.cc.ExtCaps, payload[0])
	for r.resp.expect != expectNone && !r.resp.done() {
		p, seq, err := r.fc.ReadFrame()
		if err != nil && werr != nil {
			fmt.Fprintf(&r.log, "[connection closed after a failed write]")
			return
		}
		if err != nil {
			r.t.Fatalf("reading the answer to %q: %v", preview(payload), err)
		}
		r.log.Write([]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), seq})
		if payload[0] == comStmtPrepare && r.resp.state == stFirst && len(p) >= 5 && p[0] == 0 {
			// MariaDB numbers statements server-wide: the id is the one byte sequence that
			// differs between two connections by design.
			r.log.Write(p[:1])
			r.log.Write([]byte{0, 0, 0, 0})
			r.log.Write(p[5:])
		} else {
			r.log.Write(p)
		}
		r.resp.frame(p)
	}
	if r.resp.malformed != "" {
		r.t.Fatalf("answer to %q: %s", preview(payload), r.resp.malformed)
	}
}

func preview(p []byte) string { return string(p[:min(len(p), 60)]) }

func query(sql string) []byte { return append([]byte{comQuery}, sql...) }

// script is the conversation replayed directly and through the proxy: text queries, an
// error, multi-statements, COM_INIT_DB, COM_PING, a prepared statement with parameters,
// a command longer than one 16 MiB packet.
func script(r *recorder, db string) {
	r.do(query("SELECT 1, 'two', NULL, 3.25, CAST('2026-01-02' AS DATE)"))
	r.do(query("SELECT id, v FROM transparency ORDER BY id"))
	r.do(query("SELECT no_such_column FROM transparency"))
	r.do(query("SELECT COUNT(*) FROM transparency; SELECT v FROM transparency WHERE id = 2; DO 1"))
	r.do(append([]byte{comInitDB}, db...))
	r.do([]byte{comPing})
	r.do(query("SET @x = 5"))
	r.do(query("SELECT @x + 1"))
	r.do(append([]byte{comStmtPrepare}, "SELECT v, id * ? FROM transparency WHERE id >= ?"...))
	id := r.resp.stmtID
	exec := []byte{comStmtExecute, byte(id), byte(id >> 8), byte(id >> 16), byte(id >> 24), 0, 1, 0, 0, 0,
		0,                      // NULL bitmap (2 params)
		1,                      // new params bound
		0x08, 0x00, 0x08, 0x00, // two LONGLONGs
		3, 0, 0, 0, 0, 0, 0, 0,
		2, 0, 0, 0, 0, 0, 0, 0}
	r.do(exec)
	r.do(exec)
	r.do([]byte{comStmtClose, byte(id), byte(id >> 8), byte(id >> 16), byte(id >> 24)})
	big := "SELECT LENGTH('" + strings.Repeat("x", 17<<20) + "')" // two packets; the server may refuse it (max_allowed_packet)
	r.do(query(big))
}

// TestAnswersAreByteIdentical replays the script directly against the primary and through
// the proxy with the shadow healthy, down, stalled or refusing the login, and compares every
// byte the client received.
func TestAnswersAreByteIdentical(t *testing.T) {
	paddr, db := primaryAddr(t)
	setup := openDB(t, "root@tcp("+paddr+")/"+db)
	mustExec(t, setup, "DROP TABLE IF EXISTS transparency", "CREATE TABLE transparency (id INT PRIMARY KEY, v VARCHAR(10))",
		"INSERT INTO transparency VALUES (1,'a'),(2,'b'),(3,NULL)")

	direct := dialRecorder(t, paddr, db)
	script(direct, db)

	stalled := startStalled(t)
	shadows := []struct {
		name, addr, user string
		wantDrop         string
	}{
		{"healthy", paddr, "root", ""},
		{"down", testenv.FreeAddr(t), "root", DropUnavailable},
		{"stalled", stalled, "root", DropUnavailable},
		{"refusing logins", paddr, "srctl_no_such_user", DropLoginFailed},
	}
	for _, sh := range shadows {
		t.Run(sh.name, func(t *testing.T) {
			sink := &memSink{}
			_, addr := startProxy(t, Config{Primary: paddr, Shadow: sh.addr, ShadowUser: sh.user, Sink: sink,
				DialTimeout: 500 * time.Millisecond, QueueSize: 4})
			start := time.Now()
			via := dialRecorder(t, addr, db)
			script(via, db)
			took := time.Since(start)
			if !bytes.Equal(direct.log.Bytes(), via.log.Bytes()) {
				d, v := direct.log.Bytes(), via.log.Bytes()
				i := 0
				for i < min(len(d), len(v)) && d[i] == v[i] {
					i++
				}
				t.Fatalf("answers differ at byte %d of %d/%d: direct %q, via proxy %q", i, len(d), len(v),
					d[i:min(i+40, len(d))], v[i:min(i+40, len(v))])
			}
			if took > 5*time.Second {
				t.Errorf("the script took %s through the proxy: the shadow is on the client's path", took)
			}
			if sh.wantDrop == "" {
				return
			}
			rows := sink.waitRows(t, "shadow rows", func(rs []lakehouse.ProxyLogRecord) bool {
				n := 0
				for _, r := range rs {
					if r.Target == "shadow" {
						n++
					}
				}
				return n >= 10
			})
			for _, r := range rows {
				if r.Target == "shadow" && !r.Dropped && !r.Filtered {
					t.Errorf("shadow row of %s %q not marked dropped: %+v", r.Command, r.QueryText, r)
				}
				if r.Target == "shadow" && r.Dropped && r.DropReason != sh.wantDrop && r.DropReason != DropQueueFull && r.DropReason != DropTooLarge {
					t.Errorf("drop reason %q, want %q or %q", r.DropReason, sh.wantDrop, DropQueueFull)
				}
			}
		})
	}
}
