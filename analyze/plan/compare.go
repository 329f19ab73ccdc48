package plan

import (
	"fmt"
	"sort"
	"strings"
)

// Change kinds, from the most to the least consequential for latency.
const (
	ChangeScanTable        = "scan-table"        // a table is read that was not, or no longer is (MV rewrite, new table)
	ChangeMVRewrite        = "mv-rewrite"        // a materialized view rewrite was gained or lost
	ChangeJoinOrder        = "join-order"        // same tables joined in another order or sides swapped
	ChangeJoinDistribution = "join-distribution" // broadcast vs shuffle vs colocate
	ChangeJoinType         = "join-type"         // INNER vs OUTER vs SEMI vs CROSS
	ChangeScanPredicate    = "scan-predicate"    // a scan lost, gained or changed its pushed-down predicate
	ChangeScanPruning      = "scan-pruning"      // partition pruning lost or gained
	ChangeScanAccess       = "scan-access"       // rollup or index changed, MySQL access type changed
	ChangeAggregation      = "aggregation"       // aggregation phases added, removed or moved
	ChangeExchange         = "exchange"          // data movement added or removed
	ChangeNode             = "node"              // another operator appeared or disappeared
	ChangeOther            = "other"             // only the unified diff shows it
)

// Change is one structural difference, in words.
type Change struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// Diff is the comparison of two plans.
type Diff struct {
	// Same is true when the normalised plans are identical: whatever numbers differ, the plan
	// did not change.
	Same    bool     `json:"same_plan"`
	Changes []Change `json:"changes"`
	// Unified is the unified diff of the normalised plans ("" when Same).
	Unified string `json:"unified_diff,omitempty"`
	FormatA Format `json:"format_a"`
	FormatB Format `json:"format_b"`
}

// Compare says what changed structurally from a to b; the unified diff names them "a" and "b"
// with 3 lines of context.
func Compare(a, b *Plan) Diff { return CompareNamed(a, b, "a", "b", 3) }

// CompareNamed is Compare with the unified diff's file names and context lines chosen.
func CompareNamed(a, b *Plan, nameA, nameB string, context int) Diff {
	na, nb := a.Normalized(), b.Normalized()
	d := Diff{FormatA: a.Format, FormatB: b.Format, Same: na == nb}
	if d.Same {
		return d
	}
	sa, sb := a.Structure(), b.Structure()
	add := func(kind, format string, args ...any) {
		d.Changes = append(d.Changes, Change{kind, fmt.Sprintf(format, args...)})
	}
	compareScans(sa.Scans, sb.Scans, add)
	if tableSet(allTables(sa)) == tableSet(allTables(sb)) && sa.JoinTree != sb.JoinTree && len(sa.Joins) > 0 {
		add(ChangeJoinOrder, "join order changed: %s → %s", sa.JoinTree, sb.JoinTree)
	}
	compareJoins(sa.Joins, sb.Joins, add)
	compareAggregations(sa.Aggregations, sb.Aggregations, add)
	compareExchanges(sa.Exchanges, sb.Exchanges, add)
	compareNodeCounts(sa.Nodes, sb.Nodes, add)
	if len(d.Changes) == 0 {
		add(ChangeOther, "details changed (expressions, outputs or properties); see the diff")
	}
	d.Unified = UnifiedDiff(nameA, nameB, na, nb, context)
	return d
}

func allTables(s Structure) []string {
	var ts []string
	for _, sc := range s.Scans {
		ts = append(ts, sc.Table)
	}
	return ts
}

// compareScans pairs scans by table and occurrence (the k-th scan of t with the k-th).
func compareScans(a, b []Scan, add func(string, string, ...any)) {
	byTable := func(ss []Scan) map[string][]Scan {
		m := map[string][]Scan{}
		for _, s := range ss {
			m[s.Table] = append(m[s.Table], s)
		}
		return m
	}
	ma, mb := byTable(a), byTable(b)
	var gone, came []Scan
	for _, t := range sortedKeys(ma, mb) {
		la, lb := ma[t], mb[t]
		for i := 0; i < max(len(la), len(lb)); i++ {
			switch {
			case i >= len(lb):
				gone = append(gone, la[i])
			case i >= len(la):
				came = append(came, lb[i])
			default:
				compareScan(la[i], lb[i], add)
			}
		}
	}
	names := func(ss []Scan) string {
		var n []string
		for _, s := range ss {
			n = append(n, s.Table)
		}
		return strings.Join(n, ", ")
	}
	var mvA, mvB []Scan
	for _, s := range gone {
		if s.MV {
			mvA = append(mvA, s)
		}
	}
	for _, s := range came {
		if s.MV {
			mvB = append(mvB, s)
		}
	}
	switch {
	case len(mvB) > 0:
		add(ChangeMVRewrite, "materialized view rewrite gained: reads %s instead of %s", names(mvB), orNothing(names(gone)))
	case len(mvA) > 0:
		add(ChangeMVRewrite, "materialized view rewrite lost: reads %s instead of %s", orNothing(names(came)), names(mvA))
	case len(gone) > 0 && len(came) > 0:
		add(ChangeScanTable, "reads %s instead of %s (a materialized view or rollup rewrite, or different SQL)", names(came), names(gone))
	case len(gone) > 0:
		add(ChangeScanTable, "no longer reads %s", names(gone))
	case len(came) > 0:
		add(ChangeScanTable, "now also reads %s", names(came))
	}
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

func compareScan(a, b Scan, add func(string, string, ...any)) {
	t := a.Table
	switch {
	case a.Predicates != "" && b.Predicates == "":
		add(ChangeScanPredicate, "scan of %s lost its predicate %s", t, a.Predicates)
	case a.Predicates == "" && b.Predicates != "":
		add(ChangeScanPredicate, "scan of %s gained the predicate %s", t, b.Predicates)
	case a.Predicates != b.Predicates:
		add(ChangeScanPredicate, "scan of %s: predicate %s → %s", t, a.Predicates, b.Predicates)
	}
	switch {
	case a.Partitions == "pruned" && b.Partitions == "all":
		add(ChangeScanPruning, "scan of %s lost partition pruning (%s → %s partitions)", t, a.PartsText, b.PartsText)
	case a.Partitions == "all" && b.Partitions == "pruned":
		add(ChangeScanPruning, "scan of %s gained partition pruning (%s → %s partitions)", t, a.PartsText, b.PartsText)
	case a.Partitions != b.Partitions && a.Partitions != "" && b.Partitions != "":
		add(ChangeScanPruning, "scan of %s: partitions %s → %s", t, a.Partitions, b.Partitions)
	}
	switch {
	case a.Rollup == b.Rollup:
	case b.Rollup == "":
		add(ChangeScanAccess, "scan of %s no longer uses %s", t, a.Rollup)
	case a.Rollup == "":
		add(ChangeScanAccess, "scan of %s now uses %s", t, b.Rollup)
	default:
		add(ChangeScanAccess, "scan of %s reads %s instead of %s", t, b.Rollup, a.Rollup)
	}
	if a.Access != b.Access {
		msg := "scan of %s: access %s → %s"
		if b.Access == "ALL" || b.Access == "index" {
			msg = "scan of %s lost its index: access %s → %s (full scan)"
		}
		add(ChangeScanAccess, msg, t, a.Access, b.Access)
	}
}

// compareJoins pairs joins by their condition (the same logical join wherever the optimizer
// put it), or by the tables on both sides when the format prints no condition.
func compareJoins(a, b []Join, add func(string, string, ...any)) {
	key := func(j Join) string {
		if j.On != "" {
			return "on " + j.On
		}
		return "of " + tableSet(append(append([]string(nil), j.Probe...), j.Build...))
	}
	mb := map[string][]Join{}
	for _, j := range b {
		mb[key(j)] = append(mb[key(j)], j)
	}
	for _, ja := range a {
		k := key(ja)
		if len(mb[k]) == 0 {
			continue
		}
		jb := mb[k][0]
		mb[k] = mb[k][1:]
		label := "join " + k
		if ja.Distribution != jb.Distribution && ja.Distribution != "" && jb.Distribution != "" {
			add(ChangeJoinDistribution, "%s: %s → %s%s", label, ja.Distribution, jb.Distribution, distributionHint(ja.Distribution, jb.Distribution))
		}
		if ja.Op != jb.Op {
			add(ChangeJoinType, "%s: %s → %s", label, ja.Op, jb.Op)
		}
	}
}

func distributionHint(a, b string) string {
	switch {
	case a == "BROADCAST" && (b == "PARTITIONED" || b == "SHUFFLE"):
		return " (both sides now shuffled over the network)"
	case (a == "PARTITIONED" || a == "SHUFFLE") && b == "BROADCAST":
		return " (the build side is now copied to every node: fine when it is small)"
	case b == "COLOCATE" || b == "BUCKET_SHUFFLE":
		return " (less data moves)"
	case a == "COLOCATE" || a == "BUCKET_SHUFFLE":
		return " (more data moves)"
	}
	return ""
}

func compareAggregations(a, b []Aggregation, add func(string, string, ...any)) {
	key := func(g Aggregation) string { return g.Phase + "|" + g.GroupBy }
	mb := map[string][]Aggregation{}
	for _, g := range b {
		mb[key(g)] = append(mb[key(g)], g)
	}
	var unmatchedA []Aggregation
	for _, ga := range a {
		k := key(ga)
		if len(mb[k]) == 0 {
			unmatchedA = append(unmatchedA, ga)
			continue
		}
		gb := mb[k][0]
		mb[k] = mb[k][1:]
		if tableSet(ga.Over) != tableSet(gb.Over) {
			add(ChangeAggregation, "aggregation (%s%s) moved: over %s, was over %s", ga.Phase, groupBy(ga.GroupBy), orNothing(tableSet(gb.Over)), orNothing(tableSet(ga.Over)))
		}
	}
	for _, g := range unmatchedA {
		add(ChangeAggregation, "aggregation (%s%s) over %s removed", g.Phase, groupBy(g.GroupBy), orNothing(tableSet(g.Over)))
	}
	for _, k := range sortedKeys(mb) {
		for _, g := range mb[k] {
			add(ChangeAggregation, "aggregation (%s%s) over %s added", g.Phase, groupBy(g.GroupBy), orNothing(tableSet(g.Over)))
		}
	}
}

func groupBy(g string) string {
	if g == "" {
		return ""
	}
	return ", group by " + g
}

func compareExchanges(a, b []Exchange, add func(string, string, ...any)) {
	count := func(es []Exchange) map[string][]Exchange {
		m := map[string][]Exchange{}
		for _, e := range es {
			k := e.Distribution + " of " + tableSet(e.Over)
			m[k] = append(m[k], e)
		}
		return m
	}
	ma, mb := count(a), count(b)
	for _, k := range sortedKeys(ma, mb) {
		switch na, nb := len(ma[k]), len(mb[k]); {
		case nb > na:
			add(ChangeExchange, "new exchange: %s", k)
		case na > nb:
			add(ChangeExchange, "exchange removed: %s", k)
		}
	}
}

// compareNodeCounts reports operators other than scans, joins, aggregations and exchanges (which
// have their own words) that appeared or disappeared.
func compareNodeCounts(a, b map[string]int, add func(string, string, ...any)) {
	skip := map[string]bool{"SCAN": true, "JOIN": true, "AGGREGATE": true, "EXCHANGE": true, "PROJECT": true}
	for _, k := range sortedKeys(a, b) {
		if skip[k] {
			continue
		}
		switch na, nb := a[k], b[k]; {
		case nb > na && na == 0:
			add(ChangeNode, "%s added", k)
		case nb > na:
			add(ChangeNode, "%s: %d → %d", k, na, nb)
		case na > nb && nb == 0:
			add(ChangeNode, "%s removed", k)
		case na > nb:
			add(ChangeNode, "%s: %d → %d", k, na, nb)
		}
	}
}

func sortedKeys[V any](ms ...map[string]V) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
