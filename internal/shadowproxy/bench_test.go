package shadowproxy

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/srctl/srctl/internal/mysqlwire"
	"github.com/srctl/srctl/lakehouse/objstore"
)

// benchProxy is the proxy as deployed: the primary is the local MariaDB, every SELECT is
// mirrored (to a MySQL-protocol test double answering with a row, so that a second database
// does not take the two cores the comparison runs on), and every row is logged as JSONL
// through the real sink to a directory.
func benchProxy(b *testing.B) (addr, primary, db string) {
	b.Helper()
	primary, db = primaryAddr(b)
	shadow, err := mysqlwire.StartFakeRows(1)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(shadow.Close)
	bucket, err := objstore.NewFile(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	sink := NewLogSink(JSONLWriter{Bucket: bucket}, LogSinkConfig{})
	b.Cleanup(func() { sink.Close(context.Background()) })
	p, addr := startProxy(b, Config{Primary: primary, Shadow: shadow.Addr(), ShadowUser: "root", Sink: sink, QueueSize: 1024})
	b.Cleanup(func() {
		st := p.Stats()
		b.Logf("mirrored %d, dropped %d, log rows %d (lost %d)", st.ShadowExecuted.Load(), st.ShadowDropped.Load(), sink.Written.Load(), sink.Dropped.Load())
	})
	setup := openDB(b, "root@tcp("+primary+")/"+db)
	mustExec(b, setup, "CREATE TABLE IF NOT EXISTS bench_shadow (id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(10,2))",
		"INSERT IGNORE INTO bench_shadow SELECT seq, CONCAT('customer ', seq), seq * 1.25 FROM seq_1_to_1000")
	return addr, primary, db
}

const benchQuery = "SELECT id, name, amount FROM bench_shadow WHERE id = %d /*route='/api/customers/:id'*/"

// pacedLatencies sends rate queries per second on one connection for d and returns each
// query's latency in microseconds (the schedule is kept: a late query does not shift the
// next one, so a slow path cannot hide by slowing the load).
func pacedLatencies(b *testing.B, dsn string, rate int, d time.Duration) []float64 {
	b.Helper()
	db := openDB(b, dsn)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	interval := time.Second / time.Duration(rate)
	n := int(d / interval)
	lat := make([]float64, 0, n)
	start := time.Now()
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		t0 := time.Now()
		var id int
		var name, amount string
		if err := conn.QueryRowContext(context.Background(), fmt.Sprintf(benchQuery, 1+i%1000)).Scan(&id, &name, &amount); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, float64(time.Since(t0).Nanoseconds())/1e3)
	}
	return lat
}

func quantile(sorted []float64, q float64) float64 {
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// maxThroughput runs workers connections as fast as they go for d: queries per second.
func maxThroughput(b *testing.B, dsn string, workers int, d time.Duration) float64 {
	b.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(workers)
	db.SetMaxIdleConns(workers)
	var done atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for w := range workers {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				var id int
				var name, amount string
				if err := db.QueryRow(fmt.Sprintf(benchQuery, 1+(i*workers+w)%1000)).Scan(&id, &name, &amount); err != nil {
					b.Error(err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(done.Load()) / d.Seconds()
}

// BenchmarkShadowProxy measures what the proxy costs the client on loopback against MariaDB,
// mirroring and logging on: the latency it adds at 2,000 queries/s (P50, P99), the
// throughput it keeps, and its memory per idle connection. Direct and proxied runs alternate
// in blocks, so that the machine's drift hits both alike; the goals are P99 added
// under 200 us and throughput at least 80% of direct.
func BenchmarkShadowProxy(b *testing.B) {
	TuneGC() // as srctl shadow does (client and proxy share this process: both sides get it)
	addr, primary, db := benchProxy(b)
	direct, via := "root@tcp("+primary+")/"+db, "root@tcp("+addr+")/"+db
	const rate, blocks = 2000, 4
	block := 5 * time.Second
	if testing.Short() {
		block = time.Second
	}
	var dl, vl []float64
	for range blocks {
		dl = append(dl, pacedLatencies(b, direct, rate, block)...)
		vl = append(vl, pacedLatencies(b, via, rate, block)...)
	}
	slices.Sort(dl)
	slices.Sort(vl)
	p50d, p99d, p50v, p99v := quantile(dl, .5), quantile(dl, .99), quantile(vl, .5), quantile(vl, .99)

	workers := 16
	var dq, vq float64
	for range 2 {
		dq += maxThroughput(b, direct, workers, block)
		vq += maxThroughput(b, via, workers, block)
	}
	perConn, _, _, conns := idleMemoryPerConnection(b, 2000)
	closeAll(conns)

	b.ReportMetric(p50v-p50d, "p50-added-us")
	b.ReportMetric(p99v-p99d, "p99-added-us")
	b.ReportMetric(vq/dq, "throughput-ratio")
	b.ReportMetric(perConn/1024, "KiB/idle-conn")
	fmt.Fprintf(os.Stderr, `
srctl shadow on loopback, primary = local MariaDB, mirroring every SELECT (shadow: test double), JSONL logs on
  latency at %d queries/s, %d x %s per side, alternated (%d queries each):
    direct   P50 %6.0f us   P99 %6.0f us
    proxy    P50 %6.0f us   P99 %6.0f us
    added    P50 %6.0f us   P99 %6.0f us   (goal: P99 added < 200 us)
  throughput, %d connections, 2 x %s per side: direct %.0f q/s, proxy %.0f q/s = %.0f%% (goal >= 80%%)
  memory: %.1f KiB per idle connection (2,000 connections, heap + stacks, proxy minus direct)
`, rate, blocks, block, len(dl), p50d, p99d, p50v, p99v, p50v-p50d, p99v-p99d,
		workers, block, dq/2, vq/2, 100*vq/dq, perConn/1024)
}
