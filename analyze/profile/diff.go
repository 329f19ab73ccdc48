package profile

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// OperatorStats are the per-operator numbers a diff compares.
type OperatorStats struct {
	Name        string `json:"name"`
	PlanNodeID  int    `json:"plan_node_id"`
	Fragment    int    `json:"fragment"`
	Pipeline    int    `json:"pipeline"`
	TimeNS      int64  `json:"time_ns"`      // OperatorTotalTime
	Rows        int64  `json:"rows"`         // PullRowNum, or PushRowNum for sinks
	MemoryBytes int64  `json:"memory_bytes"` // hash table or buffer peak
}

// memoryKeys are the operator memory counters, most specific first.
var memoryKeys = []string{"HashTableMemoryUsage", "PeakChunkBufferMemoryUsage", "LocalExchangePeakMemoryUsage",
	"PassThroughBufferPeakMemoryUsage", "OperatorPeakMemoryUsage"}

// OperatorStatsOf lists every operator's stats in text order.
func (p *Profile) OperatorStatsOf() []OperatorStats {
	var out []OperatorStats
	frag, pipe := -1, -1
	p.Root.Walk(func(n *Node) {
		switch n.Kind {
		case NodeFragment:
			frag = n.ID
		case NodePipeline:
			pipe = n.ID
		case NodeOperator:
			s := OperatorStats{Name: n.Name, PlanNodeID: n.PlanNodeID, Fragment: frag, Pipeline: pipe}
			if e := n.Metric("OperatorTotalTime"); e != nil {
				s.TimeNS, _ = e.Value.NS()
			}
			for _, key := range []string{"PullRowNum", "PushRowNum"} {
				if e := n.Metric(key); e != nil && e.Value.Kind == Count && e.Value.Int > 0 {
					s.Rows = e.Value.Int
					break
				}
			}
			for _, key := range memoryKeys {
				if e := n.Metric(key); e != nil && e.Value.Kind == Bytes && !e.Value.Unset && e.Value.Int > 0 {
					s.MemoryBytes = e.Value.Int
					break
				}
			}
			out = append(out, s)
		}
	})
	return out
}

// MetricDelta is one headline metric on both sides.
type MetricDelta struct {
	Name  string  `json:"name"`
	Unit  string  `json:"unit"` // ns, bytes, rows, count
	A     int64   `json:"a"`
	B     int64   `json:"b"`
	Delta int64   `json:"delta"`
	Ratio float64 `json:"ratio"` // B/A; +Inf when A is 0 and B is not; 1 when both are 0
}

// OperatorDelta is an operator found in both profiles.
type OperatorDelta struct {
	A, B      OperatorStats
	MatchedBy string  `json:"matched_by"` // "plan_node_id" or "position"
	Reading   string  `json:"reading"`    // one line in words
	score     float64 // how much it moved, for ranking
}

// Diff compares profile A (baseline) with profile B.
type Diff struct {
	A, B        Headline
	Metrics     []MetricDelta
	Operators   []OperatorDelta // most moved first
	Appeared    []OperatorStats // in B only
	Disappeared []OperatorStats // in A only
}

func ratio(a, b int64) float64 {
	switch {
	case a == b:
		return 1
	case a == 0:
		return math.Inf(1)
	}
	return float64(b) / float64(a)
}

// headlineMetrics are the headline metrics a comparison shows, by name and unit, with the
// field of Headline that holds each.
var headlineMetrics = []struct {
	name, unit string
	field      func(*Headline) *int64
}{
	{"total", "ns", func(h *Headline) *int64 { return &h.TotalNS }},
	{"cpu", "ns", func(h *Headline) *int64 { return &h.CPUNS }},
	{"execution wall", "ns", func(h *Headline) *int64 { return &h.ExecutionWallNS }},
	{"planner", "ns", func(h *Headline) *int64 { return &h.PlannerNS }},
	{"scan time", "ns", func(h *Headline) *int64 { return &h.ScanNS }},
	{"operator time", "ns", func(h *Headline) *int64 { return &h.OperatorNS }},
	{"network time", "ns", func(h *Headline) *int64 { return &h.NetworkNS }},
	{"result deliver", "ns", func(h *Headline) *int64 { return &h.ResultDeliverNS }},
	{"peak memory per node", "bytes", func(h *Headline) *int64 { return &h.PeakMemoryPerNodeBytes }},
	{"summed memory", "bytes", func(h *Headline) *int64 { return &h.SumMemoryBytes }},
	{"spill", "bytes", func(h *Headline) *int64 { return &h.SpillBytes }},
	{"scanned", "bytes", func(h *Headline) *int64 { return &h.ScanBytes }},
	{"scan raw rows", "rows", func(h *Headline) *int64 { return &h.ScanRawRows }},
	{"scan rows", "rows", func(h *Headline) *int64 { return &h.ScanRows }},
	{"scan remote", "bytes", func(h *Headline) *int64 { return &h.ScanRemoteBytes }},
	{"data cache read", "bytes", func(h *Headline) *int64 { return &h.DataCacheReadBytes }},
}

// CompareHeadlines compares two profiles' headline metrics (or the medians of several runs').
func CompareHeadlines(a, b Headline) []MetricDelta {
	out := make([]MetricDelta, 0, len(headlineMetrics)+1)
	for _, m := range headlineMetrics {
		va, vb := *m.field(&a), *m.field(&b)
		out = append(out, MetricDelta{Name: m.name, Unit: m.unit, A: va, B: vb, Delta: vb - va, Ratio: ratio(va, vb)})
	}
	return out
}

// MedianHeadline is the per-metric median (the lower one of an even count) of several runs'
// headline metrics; top operators come from the run whose CPU time is the median.
func MedianHeadline(hs []Headline) Headline {
	if len(hs) == 0 {
		return Headline{}
	}
	var out Headline
	vals := make([]int64, len(hs))
	for _, m := range headlineMetrics {
		for i := range hs {
			vals[i] = *m.field(&hs[i])
		}
		slices.Sort(vals)
		*m.field(&out) = vals[(len(vals)-1)/2]
	}
	byCPU := slices.Clone(hs)
	slices.SortFunc(byCPU, func(x, y Headline) int { return cmp.Compare(x.CPUNS, y.CPUNS) })
	mid := byCPU[(len(byCPU)-1)/2]
	out.State, out.TopOperators, out.ScanOperators, out.OperatorTotalNS = mid.State, mid.TopOperators, mid.ScanOperators, mid.OperatorTotalNS
	return out
}

// Compare aligns the operators of a and b and compares their headline metrics.
func Compare(a, b *Profile) Diff {
	d := Diff{A: a.Headlines(), B: b.Headlines()}
	d.Metrics = append(CompareHeadlines(d.A, d.B), MetricDelta{Name: "operators", Unit: "count",
		A: int64(len(a.Operators())), B: int64(len(b.Operators())), Delta: int64(len(b.Operators()) - len(a.Operators())),
		Ratio: ratio(int64(len(a.Operators())), int64(len(b.Operators())))})

	as, bs := a.OperatorStatsOf(), b.OperatorStatsOf()
	usedA, usedB := make([]bool, len(as)), make([]bool, len(bs))
	// First by plan node id and name (the k-th such operator on each side), then, for what is
	// left (ids renumbered by a new plan), by name and position among the unmatched.
	type key struct {
		name string
		id   int
	}
	byKey := map[key][]int{}
	for i, s := range bs {
		byKey[key{s.Name, s.PlanNodeID}] = append(byKey[key{s.Name, s.PlanNodeID}], i)
	}
	for i, s := range as {
		k := key{s.Name, s.PlanNodeID}
		if js := byKey[k]; len(js) > 0 {
			d.Operators = append(d.Operators, OperatorDelta{A: s, B: bs[js[0]], MatchedBy: "plan_node_id"})
			usedA[i], usedB[js[0]] = true, true
			byKey[k] = js[1:]
		}
	}
	byName := map[string][]int{}
	for j, s := range bs {
		if !usedB[j] {
			byName[s.Name] = append(byName[s.Name], j)
		}
	}
	for i, s := range as {
		if usedA[i] {
			continue
		}
		if js := byName[s.Name]; len(js) > 0 {
			d.Operators = append(d.Operators, OperatorDelta{A: s, B: bs[js[0]], MatchedBy: "position"})
			usedA[i], usedB[js[0]] = true, true
			byName[s.Name] = js[1:]
		}
	}
	for i, s := range as {
		if !usedA[i] {
			d.Disappeared = append(d.Disappeared, s)
		}
	}
	for j, s := range bs {
		if !usedB[j] {
			d.Appeared = append(d.Appeared, s)
		}
	}

	hotA, hotB := hottest(as), hottest(bs)
	for i := range d.Operators {
		o := &d.Operators[i]
		o.Reading, o.score = reading(o, hotA, hotB, d.A.OperatorTotalNS, d.B.OperatorTotalNS)
	}
	sort.SliceStable(d.Operators, func(i, j int) bool { return d.Operators[i].score > d.Operators[j].score })
	return d
}

// hottest is the operator with the most time (by name and plan node), or an empty key.
func hottest(ops []OperatorStats) [2]any {
	best := -1
	for i, s := range ops {
		if best < 0 || s.TimeNS > ops[best].TimeNS {
			best = i
		}
	}
	if best < 0 || ops[best].TimeNS == 0 {
		return [2]any{}
	}
	return [2]any{ops[best].Name, ops[best].PlanNodeID}
}

// reading says in one line how an operator moved, and scores it: the time it added or saved
// (as a share of the larger run's operator time) plus a bonus for large row or memory changes.
func reading(o *OperatorDelta, hotA, hotB [2]any, totalA, totalB int64) (string, float64) {
	var parts []string
	describe := func(what string, a, b int64, format func(int64) string) float64 {
		if a < 0 || b < 0 {
			return 0 // unset (StarRocks prints -1 B): no ratio to speak of
		}
		r := ratio(a, b)
		if a == b || (r < 1.5 && r > 1/1.5) {
			return 0
		}
		switch {
		case a == 0:
			parts = append(parts, fmt.Sprintf("%s 0 → %s", what, format(b)))
		case r >= 1:
			parts = append(parts, fmt.Sprintf("%s x%s (%s → %s)", what, trimRatio(r), format(a), format(b)))
		default:
			parts = append(parts, fmt.Sprintf("%s ÷%s (%s → %s)", what, trimRatio(1/r), format(a), format(b)))
		}
		if a == 0 || b == 0 {
			return 1
		}
		return math.Min(math.Abs(math.Log2(r))/10, 1)
	}
	score := 0.0
	if den := max(totalA, totalB); den > 0 {
		score = math.Abs(float64(o.B.TimeNS-o.A.TimeNS)) / float64(den)
	}
	describe("time", o.A.TimeNS, o.B.TimeNS, FormatNS)
	rowsWord := "rows"
	if strings.HasSuffix(o.B.Name, "_BUILD") {
		rowsWord = "build rows"
	}
	score += 0.5 * describe(rowsWord, o.A.Rows, o.B.Rows, FormatCount)
	score += 0.5 * describe("memory", o.A.MemoryBytes, o.B.MemoryBytes, FormatBytes)
	isHotA := hotA == [2]any{o.A.Name, o.A.PlanNodeID}
	isHotB := hotB == [2]any{o.B.Name, o.B.PlanNodeID}
	switch {
	case isHotB && !isHotA:
		parts = append(parts, "now the hot spot")
		score += 0.5
	case isHotA && !isHotB:
		parts = append(parts, "no longer the hot spot")
	}
	if len(parts) == 0 {
		parts = append(parts, "about the same")
	}
	return fmt.Sprintf("%s plan node %d: %s", o.B.Name, o.B.PlanNodeID, strings.Join(parts, ", ")), score
}

func trimRatio(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0f", r)
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", r), ".0")
}
