package shadowproxy

import (
	"crypto/rand"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/lakehouse"
)

func startFake(t testing.TB) *mysqlwire.FakeServer {
	t.Helper()
	fs, err := mysqlwire.StartFake()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fs.Close)
	return fs
}

// settle waits for the goroutine count to come back to at most base (+slack).
func settle(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, were %d: leak?\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBadInputNeitherCrashesNorLeaks(t *testing.T) {
	primary := startFake(t)
	shadow := startFake(t)
	sink := &memSink{}
	p, addr := startProxy(t, Config{Primary: primary.Addr(), Shadow: shadow.Addr(), ShadowUser: "root", Sink: sink, QueueSize: 8})
	base := runtime.NumGoroutine()

	connect := func(t *testing.T) *recorder {
		t.Helper()
		return dialRecorder(t, addr, "")
	}
	t.Run("garbage instead of a handshake response", func(t *testing.T) {
		for range 20 {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			junk := make([]byte, 300)
			rand.Read(junk)
			nc.SetDeadline(time.Now().Add(5 * time.Second))
			io.CopyN(io.Discard, nc, 4) // greeting header
			nc.Write(junk)
			nc.(*net.TCPConn).CloseWrite() // a junk length would have the proxy wait for more
			if _, err := io.Copy(io.Discard, nc); err != nil {
				t.Fatalf("the proxy should close the connection: %v", err)
			}
			nc.Close()
		}
		settle(t, base)
	})
	t.Run("a frame that claims 16 MiB, then nothing", func(t *testing.T) {
		r := connect(t)
		r.cc.NC.Write([]byte{0xff, 0xff, 0xff, 0, comQuery, 'S'})
		r.cc.NC.Close()
		settle(t, base)
	})
	t.Run("an empty command", func(t *testing.T) {
		r := connect(t)
		r.cc.NC.Write([]byte{0, 0, 0, 0})
		r.cc.NC.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, r.cc.NC); err != nil {
			t.Fatalf("the proxy should close the connection: %v", err)
		}
		settle(t, base)
	})
	t.Run("client disconnects mid-result", func(t *testing.T) {
		r := connect(t)
		r.fc.WriteFrames(query("rows 200000"), 0)
		io.CopyN(io.Discard, r.cc.NC, 64<<10)
		r.cc.NC.Close()
		settle(t, base)
	})
	t.Run("backend closes mid-result", func(t *testing.T) {
		r := connect(t)
		r.fc.WriteFrames(query("die after 50"), 0)
		r.cc.NC.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(r.cc.NC)
		if err != nil {
			t.Fatalf("the proxy should pass the rows on and close: %v", err)
		}
		if len(got) < 50*100 {
			t.Errorf("got %d bytes, want the 50 rows the primary sent", len(got))
		}
		sink.waitRows(t, "the primary's failure row", func(rs []lakehouse.ProxyLogRecord) bool {
			for _, r := range rs {
				if r.Target == "primary" && r.QueryText == "die after 50" && !r.Success && r.Error != "" {
					return true
				}
			}
			return false
		})
		settle(t, base)
	})
	t.Run("a value over several packets, both ways", func(t *testing.T) {
		r := connect(t)
		r.do(query("big"))
		if r.resp.rows != 1 || r.resp.malformed != "" {
			t.Fatalf("rows %d, malformed %q", r.resp.rows, r.resp.malformed)
		}
		r.do(query("SELECT '" + strings.Repeat("z", 17<<20) + "'"))
		r.do([]byte{comPing})
		r.cc.NC.Close()
		settle(t, base)
	})
	if n := p.ActiveConnections(); n != 0 {
		t.Errorf("%d connections still open", n)
	}
}

// TestQueueBoundedInBytes: large commands to a stalled shadow stop queueing at the byte budget
// (dropped, queue_full), so memory stays bounded whatever the commands' size.
func TestQueueBoundedInBytes(t *testing.T) {
	primary := startFake(t)
	stalled := startStalled(t)
	sink := &memSink{}
	_, addr := startProxy(t, Config{Primary: primary.Addr(), Shadow: stalled, ShadowUser: "root", Sink: sink,
		QueueBytes: 1 << 20, DialTimeout: 5 * time.Second})
	r := dialRecorder(t, addr, "")
	big := "SELECT '" + strings.Repeat("x", 300<<10) + "'"
	for range 10 {
		r.do(query(big))
	}
	// 1 MiB holds three 300 KiB copies (the one running counts until it ends): of ten, at
	// least six are dropped.
	sink.waitRows(t, "six copies dropped at the byte budget", func(rs []lakehouse.ProxyLogRecord) bool {
		n := 0
		for _, x := range rs {
			if x.Target == "shadow" && x.Dropped && x.DropReason == DropQueueFull {
				n++
			}
		}
		return n >= 6
	})
}
