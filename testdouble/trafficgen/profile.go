package trafficgen

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/srctl/srctl/lakehouse"
)

// profileRecord is what srctl collect would write for one side of query i. The regressed
// endpoint's shadow plan lost its partition pruning: it scans about three times the bytes and
// rows and burns more CPU, which is what the diff's "why" column should find.
// same: nothing planted for this query (an A/A run, or a fixed regression).
func profileRecord(cluster string, e *endpoint, r *row, start time.Time, i int, same bool) lakehouse.ProfileRecord {
	dur := r.dur
	scanBytes := int64(float64(e.bytes) * 4000)
	scanRows := scanBytes / 100
	cpu := int64(dur * 0.7 * 1e6)
	joinNS, scanNS := int64(dur*0.3*1e6), int64(dur*0.5*1e6)
	if cluster == "shadow" && !same && e.name == RegressedEndpoint {
		scanBytes *= 3
		scanRows *= 3
		scanNS *= 3
	}
	state := "FINISHED"
	if !r.ok {
		state = "CANCELLED" // the proxy timed out and closed the connection; the FE cancels the query
	}
	qid := fmt.Sprintf("%s-%08x-%04x", cluster[:1]+"0000000", i, len(cluster))
	rec := lakehouse.ProfileRecord{
		TS: start.Add(time.Minute), FEHost: cluster + "-fe-0:8030", Cluster: cluster, QueryID: qid, State: state,
		Database: "shop", User: "app", StartTime: start, EndTime: start.Add(ms(dur)), DurationMS: dur, SQLText: r.sql,
		SchemaVersion: lakehouse.ProfileSchemaVersion, ProfileStatus: "ok",
	}
	if r.sql != "" {
		sum := md5.Sum([]byte(r.sql))
		rec.QueryHash = hex.EncodeToString(sum[:])
	}
	if e.diverge && cluster == "shadow" && !same && r.recv < 100 {
		rec.State, rec.ErrorMessage = "FAILED", "Unknown table 'stock': no database selected"
		rec.ProfileStatus = "skipped"
		return rec
	}
	rec.ProfileText = profileText(qid, r.sql, dur, cpu, scanNS, joinNS, scanBytes, scanRows, e.table)
	rec.ProfileBytes = len(rec.ProfileText)
	return rec
}

// profileText is a small profile in the 3.x text grammar (../shared/starrocks/README.md).
func profileText(id, sql string, totalMS float64, cpuNS, scanNS, joinNS, scanBytes, scanRows int64, table string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `Query:
  Summary:
     - Query ID: %s
     - Start Time: 2026-03-05 14:30:22
     - Total: %s
     - Query Type: Query
     - Query State: Finished
     - StarRocks Version: 3.5.2-69de616
     - User: app
     - Default Db: shop
     - Sql Statement: %s
  Planner:
     - -- Total[1] 3ms
  Execution:
     - QueryCumulativeCpuTime: %s
     - QueryCumulativeOperatorTime: %s
     - QueryCumulativeScanTime: %s
     - QueryExecutionWallTime: %s
     - QueryPeakMemoryUsagePerNode: %.3f MB
     - QuerySumMemoryUsage: %.3f MB
    Fragment 0:
      Pipeline (id=1):
        RESULT_SINK (plan_node_id=-1):
          CommonMetrics:
             - OperatorTotalTime: 20us
        HASH_JOIN_PROBE (plan_node_id=4):
          CommonMetrics:
             - OperatorTotalTime: %s
             - PushRowNum: %d
    Fragment 1:
      Pipeline (id=0):
        OLAP_SCAN (plan_node_id=0):
          CommonMetrics:
             - OperatorTotalTime: %s
          UniqueMetrics:
             - Table: %s
             - BytesRead: %.3f MB
             - RawRowsRead: %d
             - RowsRead: %d
`, id, dur(int64(totalMS*1e6)), strings.ReplaceAll(sql, "\n", " "), dur(cpuNS), dur(scanNS+joinNS), dur(scanNS), dur(int64(totalMS*1e6)),
		float64(scanBytes)/(1<<20)/4+1, float64(scanBytes)/(1<<20)/2+1, dur(joinNS), scanRows/10, dur(scanNS), table,
		float64(scanBytes)/(1<<20), scanRows, scanRows/20)
	return b.String()
}

// dur formats nanoseconds the way profiles do for simple cases: 1s200ms, 12ms, 350us.
func dur(ns int64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%ds%dms", ns/1e9, ns%1e9/1e6)
	case ns >= 1e6:
		return fmt.Sprintf("%.3fms", float64(ns)/1e6)
	default:
		return fmt.Sprintf("%dus", max(ns/1e3, 1))
	}
}
