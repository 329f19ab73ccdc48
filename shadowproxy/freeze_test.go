package shadowproxy

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
)

// pausableForwarder relays TCP connections to target and can hold every byte in flight (a
// shadow that stops answering: a long GC pause, a full disk, a checkpoint) and then let it go.
type pausableForwarder struct {
	t      *testing.T
	ln     net.Listener
	target string
	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
}

func startForwarder(t *testing.T, target string) *pausableForwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &pausableForwarder{t: t, ln: ln, target: target}
	f.cond = sync.NewCond(&f.mu)
	var conns []net.Conn
	var cmu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			cmu.Lock()
			conns = append(conns, c, b)
			cmu.Unlock()
			go f.pipe(b, c)
			go f.pipe(c, b)
		}
	}()
	t.Cleanup(func() {
		f.resume()
		ln.Close()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
	})
	return f
}

func (f *pausableForwarder) Addr() string { return f.ln.Addr().String() }

func (f *pausableForwarder) pause() {
	f.mu.Lock()
	f.paused = true
	f.mu.Unlock()
}

func (f *pausableForwarder) resume() {
	f.mu.Lock()
	f.paused = false
	f.cond.Broadcast()
	f.mu.Unlock()
}

// pipe copies src to dst, holding each chunk while paused.
func (f *pausableForwarder) pipe(dst io.WriteCloser, src io.ReadCloser) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			f.mu.Lock()
			for f.paused {
				f.cond.Wait()
			}
			f.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestFrozenShadowLosesNoCopy: the shadow stops answering for three seconds while 16 clients
// send 300 queries each through the proxy; at the default settings every copy waits and runs
// when the shadow is back: no copy is dropped. With the old fixed queue of 64 commands per
// connection (QueueSize 64) the same run drops copies, which is what the defaults replaced.
func TestFrozenShadowLosesNoCopy(t *testing.T) {
	paddr, db := primaryAddr(t)
	for _, tc := range []struct {
		name      string
		queueSize int
		wantDrops bool
	}{{"defaults", 0, false}, {"old 64-command queue", 64, true}} {
		t.Run(tc.name, func(t *testing.T) {
			fwd := startForwarder(t, paddr)
			sink := &memSink{}
			_, addr := startProxy(t, Config{Primary: paddr, Shadow: fwd.Addr(), ShadowUser: "root", Sink: sink, QueueSize: tc.queueSize})
			client := openDB(t, "root@tcp("+addr+")/"+db)
			const conns, perConn = 16, 300
			client.SetMaxOpenConns(conns)
			client.SetMaxIdleConns(conns)
			// Open every connection and its shadow session before the freeze.
			var wg sync.WaitGroup
			var errMu sync.Mutex
			var firstErr error
			for c := range conns {
				wg.Go(func() {
					conn, err := client.Conn(t.Context())
					if err == nil {
						defer conn.Close()
						_, err = conn.ExecContext(t.Context(), fmt.Sprintf("SELECT 'warm %d'", c))
					}
					if err != nil {
						errMu.Lock()
						firstErr = err
						errMu.Unlock()
					}
				})
			}
			wg.Wait()
			if firstErr != nil {
				t.Fatal(firstErr)
			}
			sink.waitRows(t, "the warm-up copies", func(rs []lakehouse.ProxyLogRecord) bool { return countRows(rs, "shadow", "COM_QUERY") >= conns })

			fwd.pause()
			frozen := time.Now()
			for c := range conns {
				wg.Go(func() {
					for i := range perConn {
						var v string
						if err := client.QueryRow(fmt.Sprintf("SELECT 'c%d q%d /* frozen */'", c, i)).Scan(&v); err != nil {
							errMu.Lock()
							firstErr = err
							errMu.Unlock()
							return
						}
					}
				})
			}
			wg.Wait() // the clients are not slowed by the frozen shadow
			if firstErr != nil {
				t.Fatal(firstErr)
			}
			if d := time.Since(frozen); d < 3*time.Second {
				time.Sleep(3*time.Second - d) // the freeze lasts at least three seconds
			}
			fwd.resume()
			want := conns * perConn
			rows := sink.waitRowsFor(t, 2*time.Minute, "every copy executed or dropped", func(rs []lakehouse.ProxyLogRecord) bool {
				n := 0
				for _, r := range rs {
					if r.Target == "shadow" && strings.Contains(r.QueryText, "/* frozen */") {
						n++
					}
				}
				return n >= want
			})
			dropped, executed := 0, 0
			for _, r := range rows {
				if r.Target != "shadow" || !strings.Contains(r.QueryText, "/* frozen */") {
					continue
				}
				if r.Dropped {
					dropped++
				} else if r.Success {
					executed++
				}
			}
			if tc.wantDrops {
				if dropped == 0 {
					t.Errorf("the 64-command queue dropped nothing: the freeze did not fill it, so the test proves nothing")
				}
				return
			}
			if dropped != 0 || executed != want {
				t.Errorf("%d copies dropped, %d executed; want 0 and %d", dropped, executed, want)
			}
		})
	}
}
