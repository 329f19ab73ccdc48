package shadowproxy

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/internal/testenv"
)

// liveBytes is the heap and stack memory in use after a collection.
func liveBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// openIdle opens n sessions to addr (handshake only) and returns them.
func openIdle(t testing.TB, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	for range n {
		nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("after %d connections: %v", len(conns), err)
		}
		if _, err := mysqlwire.Connect(nc, mysqlwire.ClientConfig{User: "root"}); err != nil {
			t.Fatalf("after %d connections: %v", len(conns), err)
		}
		conns = append(conns, nc)
	}
	return conns
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// idleMemoryPerConnection measures the proxy's memory per idle connection: n sessions through
// the proxy minus n sessions straight to the same server (clients and server live in this
// process too; the difference is the proxy's).
func idleMemoryPerConnection(t testing.TB, n int) (proxyBytes float64, p *Proxy, addr string, via []net.Conn) {
	primary := startFake(t)
	p, addr = startProxy(t, Config{Primary: primary.Addr(), Shadow: testenv.FreeAddr(t), ShadowUser: "root"})
	m0 := liveBytes()
	direct := openIdle(t, primary.Addr(), n)
	m1 := liveBytes()
	closeAll(direct)
	time.Sleep(200 * time.Millisecond)
	m2 := liveBytes()
	via = openIdle(t, addr, n)
	m3 := liveBytes()
	t.Cleanup(func() { closeAll(via) })
	perDirect := float64(m1-m0) / float64(n)
	perVia := float64(m3-m2) / float64(n)
	return perVia - perDirect, p, addr, via
}

func TestIdleConnectionsAreCheap(t *testing.T) {
	n := 10000
	if lim := raiseFileLimit(4*uint64(n) + 1000); lim < 4*uint64(n)+1000 {
		n = int(lim-1000) / 4 // four descriptors per connection in this process: client, proxy x2, server (cmd/srctl's TestShadowTenThousandIdleConnections spreads them over processes)
		t.Logf("open-files limit %d: %d connections in one process", lim, n)
	}
	base := runtime.NumGoroutine()
	perConn, p, addr, conns := idleMemoryPerConnection(t, n)
	t.Logf("%d idle connections: the proxy holds %.1f KiB per connection", n, perConn/1024)
	if got := p.ActiveConnections(); got != n {
		t.Fatalf("%d connections open, want %d", got, n)
	}
	if perConn > 48<<10 && !raceEnabled {
		t.Errorf("%.1f KiB per idle connection: want at most 48", perConn/1024)
	}
	r := dialRecorder(t, addr, "") // still serving
	r.do(query("rows 3"))
	if r.resp.rows != 3 {
		t.Errorf("rows %d, want 3", r.resp.rows)
	}
	r.cc.NC.Close()
	closeAll(conns)
	deadline := time.Now().Add(30 * time.Second)
	for p.ActiveConnections() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := p.ActiveConnections(); got != 0 {
		t.Fatalf("%d sessions still open after their clients left", got)
	}
	settle(t, base+8) // the fake server's and proxy's listeners started after base was taken
}
