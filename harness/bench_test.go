package harness

import (
	"context"
	"database/sql"
	"hash/maphash"
	"strconv"
	"testing"
	"time"

	"github.com/srctl/srctl/internal/testenv"
)

// BenchmarkCompareOverhead measures what compare-baseline adds to the queries' own time with
// a query of about 50 ms (an A/A comparison of SELECT SLEEP(0.05)): connection set-up, server
// detection, hashing, statistics, EXPLAIN parsing and reporting. Bar: under 5%.
func BenchmarkCompareOverhead(b *testing.B) {
	cs := sqlCase("overhead", "SELECT SLEEP(0.05) AS s", "SELECT SLEEP(0.05) AS s")
	var wall, queries time.Duration
	for b.Loop() {
		start := time.Now()
		c := newTestComparer(b, testenv.MySQLDSN(b), nil)
		res := c.Compare(context.Background(), cs)
		var buf discard
		NewReport(c, "x").WriteText(&buf)
		wall += time.Since(start)
		queries += c.QueryTime()
		if res.Bits != 0 {
			b.Fatalf("A/A failed: %q", res.Reasons)
		}
	}
	b.ReportMetric(100*float64(wall-queries)/float64(wall), "overhead-%")
	b.ReportMetric(float64(queries.Milliseconds())/float64(b.N), "query-ms/op")
}

// BenchmarkRowHasher: the cost of hashing a result row (five columns of the usual kinds)
// during the correctness run.
func BenchmarkRowHasher(b *testing.B) {
	cols := []Column{{"id", "BIGINT"}, {"name", "VARCHAR"}, {"amount", "DECIMAL"}, {"ratio", "DOUBLE"}, {"note", "VARCHAR"}}
	h := newRowHasher(maphash.MakeSeed(), cols, 1e-9)
	rows := make([][]sql.RawBytes, 1024)
	for i := range rows {
		rows[i] = []sql.RawBytes{[]byte(strconv.Itoa(i)), []byte("customer-" + strconv.Itoa(i%97)),
			[]byte(strconv.Itoa(i%1000) + ".50"), []byte(strconv.FormatFloat(float64(i)/7, 'g', -1, 64)), nil}
	}
	var d Digest
	for i := 0; b.Loop(); i++ { // one op = one row
		d.Add(h.Hash(rows[i%len(rows)]))
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
