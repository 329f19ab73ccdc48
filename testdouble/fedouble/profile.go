package fedouble

import (
	"fmt"
	"strings"
	"sync"
)

var fillerCache sync.Map // size -> string

// GenerateProfile returns a profile text for a query following the 3.x text grammar of
// ../shared/starrocks/README.md section 3, padded with scan/join operators to about size bytes.
// It is deterministic in its arguments.
func GenerateProfile(id, sql, state string, size int) string {
	qstate := "Finished"
	if state == "FAILED" {
		qstate = "Error"
	}
	head := fmt.Sprintf(`Query:
  Summary:
     - Query ID: %s
     - Start Time: 2026-03-05 14:30:22
     - Total: 1s54ms
     - Query Type: Query
     - Query State: %s
     - StarRocks Version: 3.5.2-69de616
     - User: root
     - Default Db: shop
     - Sql Statement: %s
     - NonDefaultSessionVariables: {"enable_profile":{"defaultValue":false,"actualValue":true}}
  Planner:
     - -- Parser[1] 1ms
     - -- Total[1] 12ms
  Execution:
     - Topology: {"rootId":3,"nodes":[{"id":3,"name":"EXCHANGE","properties":{},"children":[2]},{"id":2,"name":"HASH_JOIN","properties":{},"children":[0,1]},{"id":0,"name":"OLAP_SCAN","properties":{},"children":[]},{"id":1,"name":"OLAP_SCAN","properties":{},"children":[]}]}
     - QueryAllocatedMemoryUsage: 1.250 GB
     - QueryCumulativeCpuTime: 1s200ms
     - QueryCumulativeNetworkTime: 12.321ms
     - QueryCumulativeOperatorTime: 2s5ms
     - QueryCumulativeScanTime: 820.115ms
     - QueryExecutionWallTime: 1s50ms
     - QueryPeakMemoryUsagePerNode: 312.500 MB
     - QuerySpillBytes: 0.000 B
     - QuerySumMemoryUsage: 900.000 MB
     - ResultDeliverTime: 736ns
`, id, qstate, strings.ReplaceAll(sql, "\n", "\n       "))
	return head + filler(size-len(head))
}

// filler pads a profile to about n bytes. From 8 KiB on (the benchmark's 40 KB profiles) it
// writes fragments shaped like the Execution sections of the real profiles in
// ../shared/starrocks/samples (3.4.4, 3.5.2, 4.0.1): about 45 bytes a line, 95% of the lines
// entries, one operator every 4-5 KB, each with its CommonMetrics and UniqueMetrics and most
// counters followed by their __MAX_OF_ and __MIN_OF_ lines; the text is cut at the last line
// that fits. The collector's per-profile cost depends on that shape: the compact fragments below,
// two bare operators every 700 bytes, cost twice as much per byte to scan as the real samples.
// Smaller profiles (tests with hundreds of queries) keep the compact fragments, so that a
// kilobyte still holds scan operators.
func filler(n int) string {
	if n <= 0 {
		n = 1
	}
	bucket := (n + 1023) / 1024 * 1024 // cache per KiB
	if v, ok := fillerCache.Load(bucket); ok {
		return v.(string)
	}
	realShape := bucket >= realShapeBytes
	write := writeCompactFragment
	if realShape {
		write = writeFragment
	}
	var b strings.Builder
	for frag := 0; b.Len() < bucket; frag++ {
		write(&b, frag)
	}
	s := b.String()
	if realShape && len(s) > bucket {
		s = s[:strings.LastIndexByte(s[:bucket], '\n')+1]
	}
	fillerCache.Store(bucket, s)
	return s
}

// realShapeBytes is the padding from which filler writes fragments in the real profiles' shape.
const realShapeBytes = 8 << 10

// writeFragment writes a fragment in the real profiles' shape (about 9 KB): its own counters,
// then the scan's pipeline and the join probe's, one operator each (two per fragment, as the
// compact fragments have, so that every profile has scan operators and a top-operator list).
func writeFragment(b *strings.Builder, frag int) {
	fmt.Fprintf(b, "    Fragment %d:\n", frag)
	writeEntries(b, 7, fragmentMetrics)
	writePipeline(b, 2*frag, "OLAP_SCAN (plan_node_id=0)", scanCommonMetrics, scanUniqueMetrics)
	writePipeline(b, 2*frag+1, "HASH_JOIN_PROBE (plan_node_id=2)", joinCommonMetrics, joinUniqueMetrics)
}

// writePipeline writes a pipeline with its counters and one operator with its two metric groups.
func writePipeline(b *strings.Builder, id int, operator string, common, unique []profileMetric) {
	fmt.Fprintf(b, "      Pipeline (id=%d):\n", id)
	writeEntries(b, 9, pipelineMetrics)
	fmt.Fprintf(b, "        %s:\n          CommonMetrics:\n", operator)
	writeEntries(b, 13, common)
	b.WriteString("          UniqueMetrics:\n")
	writeEntries(b, 13, unique)
}

// writeCompactFragment writes a fragment with two operators and only the counters the
// headlines read (about 700 bytes).
func writeCompactFragment(b *strings.Builder, frag int) {
	fmt.Fprintf(b, `    Fragment %d:
       - InstancePeakMemoryUsage: 12.500 MB
      Pipeline (id=%d):
         - DegreeOfParallelism: 32
        HASH_JOIN_PROBE (plan_node_id=2):
          CommonMetrics:
             - OperatorTotalTime: 28.627ms
               - __MAX_OF_OperatorTotalTime: 30.503ms
               - __MIN_OF_OperatorTotalTime: 26.100ms
             - PullRowNum: 1.218K (1218)
             - PushRowNum: 258.794M (258794146)
          UniqueMetrics:
             - HashTableMemoryUsage: 283.000 KB
        OLAP_SCAN (plan_node_id=0):
          CommonMetrics:
             - OperatorTotalTime: 5s499ms
          UniqueMetrics:
             - BytesRead: 4.523 GB
             - RawRowsRead: 1.294B (1293970730)
             - RowsRead: 12.321K (12321)
`, frag, frag)
}

// profileMetric is one counter of a generated profile: "- name: value" at some indentation, and
// when spread is set its maximum and minimum over the instances on the two lines below it.
type profileMetric struct {
	name, value string
	spread      bool
	max, min    string
}

// writeEntries writes metrics as entries whose dash is indent spaces in.
func writeEntries(b *strings.Builder, indent int, metrics []profileMetric) {
	pad := strings.Repeat(" ", indent)
	for _, m := range metrics {
		b.WriteString(pad)
		b.WriteString("- ")
		b.WriteString(m.name)
		if m.value != "" {
			b.WriteString(": ")
			b.WriteString(m.value)
		}
		b.WriteByte('\n')
		if m.spread {
			fmt.Fprintf(b, "%s  - __MAX_OF_%s: %s\n%s  - __MIN_OF_%s: %s\n", pad, m.name, m.max, pad, m.name, m.min)
		}
	}
}

// spread is a counter with its maximum and minimum lines.
func spread(name, value, max, min string) profileMetric {
	return profileMetric{name: name, value: value, spread: true, max: max, min: min}
}

var fragmentMetrics = []profileMetric{
	{name: "BackendAddresses", value: "be-0.starrocks-be-search.starrocks.svc.cluster.local:9060"},
	{name: "InstanceIds", value: "f7ced74b-a8ff-11f0-b3d8-f69e292b7594"},
	{name: "BackendNum", value: "1"},
	{name: "BackendProfileMergeTime", value: "1.258ms"},
	{name: "InitialProcessDriverCount", value: "102"},
	{name: "InitialProcessMem", value: "18.355 GB"},
	{name: "InstanceAllocatedMemoryUsage", value: "2.948 MB"},
	{name: "InstanceDeallocatedMemoryUsage", value: "2.341 MB"},
	{name: "InstanceNum", value: "1"},
	{name: "InstancePeakMemoryUsage", value: "12.500 MB"},
	{name: "QueryMemoryLimit", value: "-1.000 B"},
}

var pipelineMetrics = []profileMetric{
	{name: "IsGroupExecution", value: "false"},
	spread("ActiveTime", "34.316us", "254.228us", "6.200us"),
	spread("BlockByInputEmpty", "42", "2", "1"),
	{name: "BlockByOutputFull", value: "0"},
	{name: "BlockByPrecondition", value: "0"},
	{name: "DegreeOfParallelism", value: "32"},
	spread("DriverTotalTime", "1s50ms", "1s52ms", "1s41ms"),
	spread("PeakDriverQueueSize", "415", "27", "0"),
	{name: "PendingTime", value: "0ns"},
	spread("ScheduleCount", "74", "3", "2"),
	spread("ScheduleTime", "1s47ms", "1s50ms", "1s40ms"),
	{name: "TotalDegreeOfParallelism", value: "32"},
	{name: "YieldByLocalWait", value: "0"},
	{name: "YieldByPreempt", value: "0"},
	{name: "YieldByTimeLimit", value: "0"},
}

var joinCommonMetrics = []profileMetric{
	spread("ConjunctsInputRows", "258.794M (258794146)", "8.122M (8122120)", "7.801M (7801020)"),
	spread("ConjunctsOutputRows", "1.218K (1218)", "52", "31"),
	spread("ConjunctsTime", "1.412ms", "2.620ms", "430.113us"),
	{name: "JoinRuntimeFilterEvaluate", value: "0"},
	{name: "JoinRuntimeFilterTime", value: "0ns"},
	spread("OperatorTotalTime", "28.627ms", "30.503ms", "26.100ms"),
	spread("OutputChunkBytes", "98.250 KB", "3.125 KB", "2.980 KB"),
	spread("PullChunkNum", "32", "8", "0"),
	spread("PullRowNum", "1.218K (1218)", "52", "31"),
	spread("PullTotalTime", "11.074ms", "12.511ms", "9.620ms"),
	spread("PushChunkNum", "63.182K (63182)", "1.982K (1982)", "1.951K (1951)"),
	spread("PushRowNum", "258.794M (258794146)", "8.122M (8122120)", "7.801M (7801020)"),
	spread("PushTotalTime", "17.553ms", "18.004ms", "16.346ms"),
	{name: "RuntimeFilterNum", value: "0"},
	{name: "RuntimeInFilterNum", value: "0"},
}

var joinUniqueMetrics = []profileMetric{
	{name: "DistributionMode", value: "BROADCAST"},
	{name: "JoinPredicates", value: "[1: a = 5: a]"},
	{name: "JoinType", value: "INNER_JOIN"},
	spread("HashTableMemoryUsage", "283.000 KB", "283.000 KB", "283.000 KB"),
	spread("OutputBuildColumnTime", "120.517us", "9.201us", "2.113us"),
	spread("OutputProbeColumnTime", "801.223us", "41.520us", "20.017us"),
	spread("ProbeConjunctEvaluateTime", "0ns", "0ns", "0ns"),
	spread("SearchHashTableTime", "9.712ms", "402.110us", "281.902us"),
	{name: "WhereConjunctEvaluateTime", value: "0ns"},
}

var scanCommonMetrics = []profileMetric{
	{name: "IsSubordinate"},
	spread("JoinRuntimeFilterInputRows", "0", "0", "0"),
	spread("JoinRuntimeFilterOutputRows", "0", "0", "0"),
	spread("OperatorTotalTime", "5s499ms", "5s601ms", "5s210ms"),
	spread("OutputChunkBytes", "1.024 GB", "33.125 MB", "31.870 MB"),
	spread("PullChunkNum", "63.182K (63182)", "1.982K (1982)", "1.951K (1951)"),
	spread("PullRowNum", "258.794M (258794146)", "8.122M (8122120)", "7.801M (7801020)"),
	spread("PullTotalTime", "5s480ms", "5s590ms", "5s200ms"),
	{name: "PushChunkNum", value: "0"},
	{name: "PushRowNum", value: "0"},
	{name: "PushTotalTime", value: "0ns"},
}

var scanUniqueMetrics = []profileMetric{
	{name: "Table", value: "orders"},
	{name: "Rollup", value: "orders"},
	{name: "SharedScan", value: "False"},
	spread("BytesRead", "4.523 GB", "145.001 MB", "140.330 MB"),
	spread("CompressedBytesRead", "1.871 GB", "60.210 MB", "58.002 MB"),
	spread("UncompressedBytesRead", "4.523 GB", "145.001 MB", "140.330 MB"),
	spread("RawRowsRead", "1.294B (1293970730)", "41.102M (41102110)", "39.880M (39880210)"),
	spread("RowsRead", "12.321K (12321)", "402", "371"),
	spread("IOTaskExecTime", "3s12ms", "3s201ms", "2s884ms"),
	spread("IOTaskWaitTime", "210.118ms", "12.442ms", "3.210ms"),
	spread("ScanTime", "5s410ms", "5s520ms", "5s130ms"),
	spread("SegmentInit", "88.211ms", "4.120ms", "1.993ms"),
	spread("SegmentRead", "2s994ms", "3s101ms", "2s870ms"),
	spread("BlockFetch", "1s201ms", "40.220ms", "35.102ms"),
	spread("DecompressT", "610.118ms", "21.003ms", "18.211ms"),
	spread("ChunkCopy", "12.001ms", "512.200us", "301.118us"),
	spread("PredFilter", "401.552ms", "13.901ms", "11.876ms"),
	spread("PredFilterRows", "1.294B (1293958409)", "41.102M (41101708)", "39.880M (39879839)"),
	spread("TabletCount", "32", "1", "1"),
	spread("PeakIOTasks", "64", "2", "2"),
	spread("PeakScanTaskQueueSize", "12", "12", "12"),
}
