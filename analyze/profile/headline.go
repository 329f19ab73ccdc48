package profile

import (
	"sort"
	"strings"
)

// Headline is the set of headline metrics of a profile, stored on every collected record
// (lakehouse.ProfileMetrics) and compared across clusters. Units are in the field names; a metric
// the profile does not show is 0 (newer builds hide zeros).
type Headline struct {
	State                  string `json:"state,omitempty"` // Finished, Error, Running
	TotalNS                int64  `json:"total_ns"`        // Summary Total
	PlannerNS              int64  `json:"planner_ns"`      // Planner "-- Total"
	CPUNS                  int64  `json:"cpu_ns"`          // QueryCumulativeCpuTime
	ExecutionWallNS        int64  `json:"execution_wall_ns"`
	PeakMemoryPerNodeBytes int64  `json:"peak_memory_per_node_bytes"`
	SumMemoryBytes         int64  `json:"sum_memory_bytes"`
	AllocatedMemoryBytes   int64  `json:"allocated_memory_bytes"`
	ScanNS                 int64  `json:"scan_ns"`     // QueryCumulativeScanTime
	OperatorNS             int64  `json:"operator_ns"` // QueryCumulativeOperatorTime
	NetworkNS              int64  `json:"network_ns"`  // QueryCumulativeNetworkTime
	PeakScheduleNS         int64  `json:"peak_schedule_ns"`
	ResultDeliverNS        int64  `json:"result_deliver_ns"`
	SpillBytes             int64  `json:"spill_bytes"`

	// Summed over scan operators.
	ScanOperators       int            `json:"scan_operators"`
	ScanBytes           int64          `json:"scan_bytes"`            // BytesRead (native/lake) or AppIOBytesRead (external)
	ScanRawRows         int64          `json:"scan_raw_rows"`         // RawRowsRead: rows read before predicates
	ScanRows            int64          `json:"scan_rows"`             // RowsRead: rows after predicates
	ScanLocalBytes      int64          `json:"scan_local_bytes"`      // lake: CompressedBytesReadLocalDisk
	ScanRemoteBytes     int64          `json:"scan_remote_bytes"`     // lake: CompressedBytesReadRemote; external: FSIOBytesRead
	DataCacheReadBytes  int64          `json:"datacache_read_bytes"`  // external: DataCacheReadBytes
	DataCacheWriteBytes int64          `json:"datacache_write_bytes"` // external: DataCacheWriteBytes
	OperatorTotalNS     int64          `json:"operator_total_ns"`     // sum of OperatorTotalTime over operators
	TopOperators        []OperatorTime `json:"top_operators,omitempty"`
}

// OperatorTime is an operator's share of the summed OperatorTotalTime.
type OperatorTime struct {
	Name       string  `json:"name"`
	PlanNodeID int     `json:"plan_node_id"`
	NS         int64   `json:"ns"`
	Share      float64 `json:"share"` // of OperatorTotalNS, 0..1
}

// TopOperatorCount is how many operators Headlines keeps in TopOperators.
const TopOperatorCount = 5

// Headlines derives the headline metrics.
func (p *Profile) Headlines() Headline {
	h := Headline{State: p.State()}
	if e := p.Summary.Get("Total"); e != nil {
		h.TotalNS, _ = e.Value.NS()
	}
	if e := p.Planner.Find("Total"); e != nil {
		h.PlannerNS, _ = e.Value.NS()
	}
	ns := func(key string) int64 {
		if e := p.Execution.Get(key); e != nil {
			v, _ := e.Value.NS()
			return v
		}
		return 0
	}
	bytes := func(key string) int64 {
		if e := p.Execution.Get(key); e != nil && e.Value.Kind == Bytes && !e.Value.Unset {
			return e.Value.Int
		}
		return 0
	}
	h.CPUNS = ns("QueryCumulativeCpuTime")
	h.ExecutionWallNS = ns("QueryExecutionWallTime")
	h.ScanNS = ns("QueryCumulativeScanTime")
	h.OperatorNS = ns("QueryCumulativeOperatorTime")
	h.NetworkNS = ns("QueryCumulativeNetworkTime")
	h.PeakScheduleNS = ns("QueryPeakScheduleTime")
	h.ResultDeliverNS = ns("ResultDeliverTime")
	h.PeakMemoryPerNodeBytes = bytes("QueryPeakMemoryUsagePerNode")
	h.SumMemoryBytes = bytes("QuerySumMemoryUsage")
	h.AllocatedMemoryBytes = bytes("QueryAllocatedMemoryUsage")
	h.SpillBytes = bytes("QuerySpillBytes")

	type opTime struct {
		n  *Node
		ns int64
	}
	var ops []opTime
	for _, op := range p.Operators() {
		if e := op.Metric("OperatorTotalTime"); e != nil {
			if v, ok := e.Value.NS(); ok {
				ops = append(ops, opTime{op, v})
				h.OperatorTotalNS = satAdd(h.OperatorTotalNS, v)
			}
		}
		if !strings.HasSuffix(op.Name, "_SCAN") {
			continue
		}
		h.ScanOperators++
		get := func(key string) int64 {
			if e := op.Metric(key); e != nil && !e.Value.Unset && (e.Value.Kind == Bytes || e.Value.Kind == Count) {
				return e.Value.Int
			}
			return 0
		}
		if b := get("BytesRead"); b > 0 {
			h.ScanBytes = satAdd(h.ScanBytes, b)
		} else {
			h.ScanBytes = satAdd(h.ScanBytes, get("AppIOBytesRead"))
		}
		h.ScanRawRows = satAdd(h.ScanRawRows, get("RawRowsRead"))
		h.ScanRows = satAdd(h.ScanRows, get("RowsRead"))
		h.ScanLocalBytes = satAdd(h.ScanLocalBytes, get("CompressedBytesReadLocalDisk"))
		h.ScanRemoteBytes = satAdd(satAdd(h.ScanRemoteBytes, get("CompressedBytesReadRemote")), get("FSIOBytesRead"))
		h.DataCacheReadBytes = satAdd(h.DataCacheReadBytes, get("DataCacheReadBytes"))
		h.DataCacheWriteBytes = satAdd(h.DataCacheWriteBytes, get("DataCacheWriteBytes"))
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].ns > ops[j].ns })
	for _, o := range ops[:min(len(ops), TopOperatorCount)] {
		share := 0.0
		if h.OperatorTotalNS > 0 {
			share = float64(o.ns) / float64(h.OperatorTotalNS)
		}
		h.TopOperators = append(h.TopOperators, OperatorTime{Name: o.n.Name, PlanNodeID: o.n.PlanNodeID, NS: o.ns, Share: share})
	}
	return h
}
