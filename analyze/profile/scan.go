package profile

import (
	"strings"
	"sync"
)

// operator metrics ScanHeadlines reads; the first occurrence inside an operator wins, as with
// Node.Metric.
var scanKeys = [...]string{"OperatorTotalTime", "BytesRead", "AppIOBytesRead", "RawRowsRead", "RowsRead",
	"CompressedBytesReadLocalDisk", "CompressedBytesReadRemote", "FSIOBytesRead", "DataCacheReadBytes", "DataCacheWriteBytes"}

const (
	kOperatorTotalTime = iota
	kBytesRead
	kAppIOBytesRead
	kRawRowsRead
	kRowsRead
	kLocal
	kRemote
	kFSIO
	kDCRead
	kDCWrite
)

// scanKeysByFirst lists, for each first byte, the scanKeys that start with it.
var scanKeysByFirst = func() (t [256][]uint8) {
	for k, name := range scanKeys {
		t[name[0]] = append(t[name[0]], uint8(k))
	}
	return t
}()

// operatorKey reports which of scanKeys an entry's body has as its key (the text before its
// first ": ", or all of it), and the value after ": " ("" when there is none): what
// strings.Cut(body, ": ") and a comparison with every key would find, without the search.
func operatorKey(body string) (k int, val string, ok bool) {
	if body == "" {
		return 0, "", false
	}
	for _, c := range scanKeysByFirst[body[0]] {
		name := scanKeys[c]
		if len(body) < len(name) || body[:len(name)] != name {
			continue
		}
		switch rest := body[len(name):]; {
		case rest == "":
			return int(c), "", true
		case len(rest) >= 2 && rest[0] == ':' && rest[1] == ' ':
			return int(c), rest[2:], true
		}
	}
	return 0, "", false
}

// scanScratch holds ScanHeadlines' working slices between calls: the collector scans thousands
// of profiles a second, each with a hundred or more operator blocks, and growing these slices
// afresh each time was half of the scan's CPU and most of the collector's garbage.
type scanScratch struct {
	ops   []scanOp
	times []opTime
}

var scratchPool = sync.Pool{New: func() any { return new(scanScratch) }}

// maxPooledOps keeps the scratch of a giant profile from staying pinned in the pool.
const maxPooledOps = 4096

type opTime struct {
	i  int
	ns int64
}

type scanOp struct {
	name   string
	id     int
	indent int
	seen   uint16               // keys met (the first occurrence wins)
	valid  uint16               // keys whose value was usable
	vals   [len(scanKeys)]int64 // ns for OperatorTotalTime, else bytes or count
}

// cutPlanNodeID is strings.Cut(name, " (plan_node_id="), found by the parentheses of name (a
// search for the whole needle cost more than the rest of reading a node's header).
func cutPlanNodeID(name string) (op, rest string, ok bool) {
	const key = "plan_node_id="
	for at := 0; ; {
		i := strings.IndexByte(name[at:], '(')
		if i < 0 {
			return name, "", false
		}
		p := at + i
		if p > 0 && name[p-1] == ' ' && strings.HasPrefix(name[p+1:], key) {
			return name[:p-1], name[p+1+len(key):], true
		}
		at = p + 1
	}
}

// readMetric takes the value of scanKeys[k], the first occurrence of that key in the operator.
func (op *scanOp) readMetric(k int, val string) {
	op.seen |= 1 << k
	read := amountValue
	if k == kOperatorTotalTime {
		read = durationValue
	}
	if n, ok := read(val); ok {
		op.vals[k], op.valid = n, op.valid|1<<k
	}
}

// execKeys are the query-level counters of Execution and where they go.
var execKeys = [...]struct {
	name  string
	bytes bool // else a duration
	dst   func(*Headline) *int64
}{
	{"QueryCumulativeCpuTime", false, func(h *Headline) *int64 { return &h.CPUNS }},
	{"QueryExecutionWallTime", false, func(h *Headline) *int64 { return &h.ExecutionWallNS }},
	{"QueryCumulativeScanTime", false, func(h *Headline) *int64 { return &h.ScanNS }},
	{"QueryCumulativeOperatorTime", false, func(h *Headline) *int64 { return &h.OperatorNS }},
	{"QueryCumulativeNetworkTime", false, func(h *Headline) *int64 { return &h.NetworkNS }},
	{"QueryPeakScheduleTime", false, func(h *Headline) *int64 { return &h.PeakScheduleNS }},
	{"ResultDeliverTime", false, func(h *Headline) *int64 { return &h.ResultDeliverNS }},
	{"QueryPeakMemoryUsagePerNode", true, func(h *Headline) *int64 { return &h.PeakMemoryPerNodeBytes }},
	{"QuerySumMemoryUsage", true, func(h *Headline) *int64 { return &h.SumMemoryBytes }},
	{"QueryAllocatedMemoryUsage", true, func(h *Headline) *int64 { return &h.AllocatedMemoryBytes }},
	{"QuerySpillBytes", true, func(h *Headline) *int64 { return &h.SpillBytes }},
}

// ScanHeadlines computes the same metrics as Parse(text).Headlines() in one pass without
// building the tree: the collector runs it on every profile it collects (hundreds of MB/s), where
// the full parse would cost more than the rest of the collector. Tests hold the two to the same
// results on fixtures, generated profiles and the real sample corpus.
func ScanHeadlines(text string) Headline {
	if looksLikeJSON(text) {
		// JSON profiles are rare (an FE-wide setting) and flatten counter groups, which the
		// scanner's indentation rules do not model: read them through the tree.
		return Parse(text).Headlines()
	}
	scratch := scratchPool.Get().(*scanScratch)
	defer func() {
		if cap(scratch.ops) <= maxPooledOps {
			scratchPool.Put(scratch)
		}
	}()
	const (
		secOther = iota
		secSummary
		secPlanner
		secExecution
	)
	var (
		h           Headline
		sec         = secOther
		secIndent   = -1
		execLevel   = -1 // indent of Execution's own entries
		execHasNode bool // a child node started: later entries are not query-level
		plannerSeen bool
		summaryLvl  = -1
		sqlIndent   = -1 // inside a multi-line Sql Statement
		ops         = scratch.ops[:0]
		cur         = -1 // index in ops of the open operator
		seenTotal   bool
		seenState   bool
		execSeen    uint32 // query-level keys already taken
	)
	lines := newLineIter(text)
	for {
		content, indent, more := lines.next()
		if !more {
			break
		}
		if content == "" {
			continue
		}
		if cur >= 0 && sec == secExecution && sqlIndent < 0 && content[0] == '-' && (len(content) == 1 || content[1] == ' ') {
			// An entry inside an operator (classify's test for entries): one of its metrics, most
			// of a profile's lines, read here and only here. Most are ruled out by the key's first
			// byte ("__MAX_OF_...", "PullRowNum") before any search for ": ". (sqlIndent is
			// always -1 in Execution: a Sql Statement's continuation lines end before any node.)
			body := strings.TrimPrefix(content[1:], " ")
			if body == "" || scanKeysByFirst[body[0]] == nil {
				continue
			}
			k, val, ok := operatorKey(body)
			if ok && ops[cur].seen&(1<<k) == 0 {
				ops[cur].readMetric(k, val)
			}
			continue
		}
		isEntry, isNode := classify(content)
		if sqlIndent >= 0 {
			if !((isEntry && indent <= sqlIndent) || (isNode && indent < sqlIndent)) {
				continue
			}
			sqlIndent = -1
		}
		if isNode {
			name := content[:len(content)-1]
			if cur >= 0 && indent <= ops[cur].indent {
				cur = -1
			}
			if secIndent >= 0 && indent <= secIndent {
				sec, secIndent = secOther, -1
			}
			switch {
			case name == "Summary":
				sec, secIndent, summaryLvl = secSummary, indent, -1
			case name == "Planner":
				sec, secIndent = secPlanner, indent
			case name == "Execution" || strings.HasPrefix(name, "Execution Profile"):
				sec, secIndent, execLevel, execHasNode = secExecution, indent, -1, false
			default:
				if sec == secExecution {
					execHasNode = true
				}
				if sec == secSummary || sec == secPlanner {
					// A node inside Summary or Planner (e.g. "Reason:") ends neither section.
					break
				}
				if !strings.HasSuffix(name, ")") {
					break // CommonMetrics, Fragment 3: most nodes are not operators; no search
				}
				if op, rest, ok := cutPlanNodeID(name); ok {
					if id, ok := parseInt(rest[:len(rest)-1]); ok && id >= -1<<31 && id < 1<<31 {
						ops = append(ops, scanOp{name: op, id: int(id), indent: indent})
						cur = len(ops) - 1
					}
				}
			}
			continue
		}
		if !isEntry {
			continue
		}
		body := strings.TrimPrefix(strings.TrimPrefix(content, "-"), " ")
		switch sec {
		case secSummary:
			if summaryLvl < 0 {
				summaryLvl = indent
			}
			key, val, _ := strings.Cut(body, ": ")
			if indent != summaryLvl {
				continue
			}
			switch {
			case key == "Sql Statement":
				sqlIndent = indent
			case key == "Total" && !seenTotal:
				seenTotal = true
				h.TotalNS, _ = parseValue(val).NS()
			case key == "Query State" && !seenState:
				seenState = true
				h.State = val
			}
		case secPlanner:
			if plannerSeen || !strings.Contains(body, "-- ") {
				continue
			}
			rest := body[strings.Index(body, "-- ")+3:]
			name, val, _ := strings.Cut(rest, " ")
			if i := strings.IndexByte(name, '['); i > 0 {
				name = name[:i]
			}
			if name == "Total" {
				plannerSeen = true
				h.PlannerNS, _ = parseValue(val).NS()
			}
		case secExecution:
			if cur >= 0 {
				continue // an operator's metric: read above
			}
			if execLevel < 0 && !execHasNode {
				execLevel = indent
			}
			if execHasNode || indent != execLevel {
				continue // fragment and pipeline counters: not query-level
			}
			key, val, _ := strings.Cut(body, ": ")
			for k, q := range execKeys {
				if key != q.name || execSeen&(1<<k) != 0 {
					continue
				}
				execSeen |= 1 << k
				v := parseValue(val)
				if q.bytes {
					if v.Kind == Bytes && !v.Unset {
						*q.dst(&h) = v.Int
					}
				} else {
					*q.dst(&h), _ = v.NS()
				}
			}
		}
	}

	scratch.ops = ops // keep what append grew for the next call
	times := scratch.times[:0]
	for i := range ops {
		op := &ops[i]
		if op.valid&(1<<kOperatorTotalTime) != 0 {
			ns := op.vals[kOperatorTotalTime]
			times = append(times, opTime{i, ns})
			h.OperatorTotalNS = satAdd(h.OperatorTotalNS, ns)
		}
		if !strings.HasSuffix(op.name, "_SCAN") {
			continue
		}
		h.ScanOperators++
		get := func(k int) int64 { return op.vals[k] } // 0 unless valid
		if b := get(kBytesRead); b > 0 {
			h.ScanBytes = satAdd(h.ScanBytes, b)
		} else {
			h.ScanBytes = satAdd(h.ScanBytes, get(kAppIOBytesRead))
		}
		h.ScanRawRows = satAdd(h.ScanRawRows, get(kRawRowsRead))
		h.ScanRows = satAdd(h.ScanRows, get(kRowsRead))
		h.ScanLocalBytes = satAdd(h.ScanLocalBytes, get(kLocal))
		h.ScanRemoteBytes = satAdd(satAdd(h.ScanRemoteBytes, get(kRemote)), get(kFSIO))
		h.DataCacheReadBytes = satAdd(h.DataCacheReadBytes, get(kDCRead))
		h.DataCacheWriteBytes = satAdd(h.DataCacheWriteBytes, get(kDCWrite))
	}
	scratch.times = times
	// The slowest TopOperatorCount operators, ties in profile order (a stable sort's top, without
	// sorting the hundreds of operators a profile can hold).
	var topBuf [TopOperatorCount]opTime
	top := topBuf[:0]
	for _, t := range times {
		p := len(top)
		for p > 0 && top[p-1].ns < t.ns {
			p--
		}
		if p == TopOperatorCount {
			continue
		}
		if len(top) < TopOperatorCount {
			top = append(top, opTime{})
		}
		copy(top[p+1:], top[p:len(top)-1])
		top[p] = t
	}
	for _, t := range top {
		share := 0.0
		if h.OperatorTotalNS > 0 {
			share = float64(t.ns) / float64(h.OperatorTotalNS)
		}
		h.TopOperators = append(h.TopOperators, OperatorTime{Name: ops[t.i].name, PlanNodeID: ops[t.i].id, NS: t.ns, Share: share})
	}
	return h
}
