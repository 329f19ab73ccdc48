package starrocksdouble

import (
	"database/sql"
	"fmt"
	"strings"

	"github.com/srctl/srctl/internal/mysqlwire"
)

// backendScan is one row of the backend's tabular EXPLAIN.
type backendScan struct {
	table string
	key   string // index used; "" for a full scan
	rows  int64
}

// explain answers EXPLAIN [COSTS|VERBOSE] q with a StarRocks-shaped plan built from the
// backend's EXPLAIN of q: one row per line, in one column named "Explain String".
func (s *Server) explain(sess *session, q string) error {
	rows, err := sess.backend.QueryContext(s.ctx, "EXPLAIN "+q)
	if err != nil {
		return s.fail(sess.c, err)
	}
	scans, err := readBackendExplain(rows)
	if err != nil {
		return s.fail(sess.c, err)
	}
	if err := sess.c.WriteColumns([]mysqlwire.Column{{Name: "Explain String", Type: mysqlwire.TypeVarString, Length: 65533}}); err != nil {
		return err
	}
	for line := range strings.SplitSeq(renderPlan(scans), "\n") {
		if err := sess.c.WriteRow([][]byte{[]byte(line)}); err != nil {
			return err
		}
	}
	return sess.c.EndRows()
}

func readBackendExplain(rows *sql.Rows) ([]backendScan, error) {
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]sql.NullString, len(names))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	col := func(name string) int {
		for i, n := range names {
			if strings.EqualFold(n, name) {
				return i
			}
		}
		return -1
	}
	ti, ki, ri := col("table"), col("key"), col("rows")
	if ti < 0 {
		return nil, fmt.Errorf("the backend's EXPLAIN has no table column")
	}
	var scans []backendScan
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		if !vals[ti].Valid || strings.HasPrefix(vals[ti].String, "<") { // <derived2>, <union1,2>
			continue
		}
		sc := backendScan{table: vals[ti].String}
		if ki >= 0 && vals[ki].Valid && vals[ki].String != "PRIMARY" {
			sc.key = vals[ki].String
		}
		if ri >= 0 && vals[ri].Valid {
			fmt.Sscan(vals[ri].String, &sc.rows)
		}
		scans = append(scans, sc)
	}
	return scans, rows.Err()
}

// renderPlan writes the scans as a StarRocks EXPLAIN COSTS text: fragment 0 gathers the
// result; the first table is scanned in fragment 1 and probes a left-deep chain of broadcast
// hash joins whose build sides are the other tables, each scanned in a fragment of its own.
func renderPlan(scans []backendScan) string {
	var b strings.Builder
	if len(scans) == 0 {
		b.WriteString("PLAN FRAGMENT 0\n OUTPUT EXPRS:\n  PARTITION: UNPARTITIONED\n\n  RESULT SINK\n\n  0:UNION\n     constant exprs: \n         NULL\n")
		return b.String()
	}
	nodeID := 0
	scanIDs := make([]int, len(scans))
	for i := range scans {
		scanIDs[i] = nodeID
		nodeID++
	}
	// Exchanges for build sides, then joins, then the gathering exchange.
	buildEx := make([]int, len(scans))
	for i := 1; i < len(scans); i++ {
		buildEx[i] = nodeID
		nodeID++
	}
	joinIDs := make([]int, len(scans))
	for i := 1; i < len(scans); i++ {
		joinIDs[i] = nodeID
		nodeID++
	}
	gather := nodeID
	fmt.Fprintf(&b, "PLAN FRAGMENT 0\n OUTPUT EXPRS:\n  PARTITION: UNPARTITIONED\n\n  RESULT SINK\n\n  %d:EXCHANGE\n     cardinality=%d\n\n", gather, scans[0].rows)
	fmt.Fprintf(&b, "PLAN FRAGMENT 1\n OUTPUT EXPRS:\n  PARTITION: RANDOM\n\n  STREAM DATA SINK\n    EXCHANGE ID: %02d\n    UNPARTITIONED\n\n", gather)
	for i := len(scans) - 1; i >= 1; i-- {
		fmt.Fprintf(&b, "  %d:HASH JOIN\n  |  join op: INNER JOIN (BROADCAST)\n  |  colocate: false, reason: \n  |\n  |----%d:EXCHANGE\n  |\n", joinIDs[i], buildEx[i])
	}
	writeScan(&b, scanIDs[0], scans[0])
	for i := 1; i < len(scans); i++ {
		fmt.Fprintf(&b, "\nPLAN FRAGMENT %d\n OUTPUT EXPRS:\n  PARTITION: RANDOM\n\n  STREAM DATA SINK\n    EXCHANGE ID: %02d\n    UNPARTITIONED\n\n", i+1, buildEx[i])
		writeScan(&b, scanIDs[i], scans[i])
	}
	return strings.TrimRight(b.String(), "\n")
}

func writeScan(b *strings.Builder, id int, sc backendScan) {
	rollup := sc.table
	if sc.key != "" {
		rollup = sc.key
	}
	fmt.Fprintf(b, "  %d:OlapScanNode\n     TABLE: %s\n     PREAGGREGATION: ON\n     partitions=1/1\n     rollup: %s\n     tabletRatio=1/1\n     cardinality=%d\n     avgRowSize=64.0\n", id, sc.table, rollup, sc.rows)
}
