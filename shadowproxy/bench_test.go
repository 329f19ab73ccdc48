package shadowproxy

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/lakehouse/objstore"
)

// BenchmarkCommand sends one-row SELECTs through a proxy in this process (primary and shadow are
// test doubles, rows go to a JSONL log sink in memory) and reports the time and the heap
// allocations per command. The allocations include the client's and the doubles' (a constant
// share): what changes between commits is the proxy's. CPU and latency as deployed are
// BenchmarkShadow's (cmd/srctl), which runs the product binary against MariaDB.
func BenchmarkCommand(b *testing.B) {
	for _, bc := range []struct {
		name   string
		policy Policy
	}{
		{"mirrored", Policy{}},
		{"relay-only", Policy{ExcludeTypes: []string{"select"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			primary, err := mysqlwire.StartFakeRows(1)
			if err != nil {
				b.Fatal(err)
			}
			defer primary.Close()
			shadow, err := mysqlwire.StartFakeRows(1)
			if err != nil {
				b.Fatal(err)
			}
			defer shadow.Close()
			sink := NewLogSink(JSONLWriter(objstore.NewMem("bench")), LogSinkConfig{})
			defer sink.Close(context.Background())
			p, addr := startProxy(b, Config{Primary: primary.Addr(), Shadow: shadow.Addr(), Policy: bc.policy, Sink: sink})
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			cc, err := mysqlwire.Connect(nc, mysqlwire.ClientConfig{User: "root"})
			if err != nil {
				b.Fatal(err)
			}
			fc := mysqlwire.FrameConn{R: cc.R, W: cc.NC}
			query := append([]byte{comQuery}, "SELECT id, name, amount FROM bench_shadow WHERE id = 42 /*route='/api/customers/:id'*/"...)
			var r response
			b.ReportAllocs()
			for b.Loop() {
				if err := fc.WriteFrame(query, 0); err != nil {
					b.Fatal(err)
				}
				r.reset(cc.Caps, cc.ExtCaps, comQuery)
				for !r.done() {
					f, _, err := fc.ReadFrame()
					if err != nil {
						b.Fatal(err)
					}
					r.frame(f)
				}
				if r.err != nil {
					b.Fatal(r.err)
				}
			}
			b.StopTimer()
			// Let the copies finish, so the next run does not pay for them.
			for deadline := time.Now().Add(10 * time.Second); p.Stats().QueuedCommands.Load() > 0 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		})
	}
}
