package profile

import (
	"sort"
	"strings"

	"github.com/srctl/srctl/lakehouse"
)

// Headline is the set of headline metrics; it is the record's type so that collected records
// carry exactly what the analysis computes.
type Headline = lakehouse.ProfileMetrics

// OperatorTime is an operator's share of the summed OperatorTotalTime.
type OperatorTime = lakehouse.OperatorTime

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
