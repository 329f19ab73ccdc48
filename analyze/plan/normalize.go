package plan

import (
	"regexp"
	"strconv"
	"strings"
)

// Normalized renders the plan's structure as text that two runs of the same plan print
// identically, whatever the data and statistics: node and slot ids, fragment numbers, tablet
// lists, cardinalities, costs, row estimates and column statistics are dropped, partition and
// tablet ratios become "all", "pruned" or "none". One line per node ("HASH JOIN (INNER JOIN
// (BROADCAST))"), its details under it after "| ", children indented by two spaces; exchanges
// carry the sending fragment's tree, so fragment boundaries do not show.
func (p *Plan) Normalized() string {
	if p == nil || p.Root == nil {
		return ""
	}
	var b strings.Builder
	p.Root.Walk(func(n *Node, depth int) {
		ind := strings.Repeat("  ", depth)
		b.WriteString(ind)
		b.WriteString(nodeTitle(n))
		b.WriteByte('\n')
		for _, a := range n.Attrs {
			if na, ok := normalizeAttr(a); ok {
				b.WriteString(ind)
				b.WriteString("| ")
				b.WriteString(na)
				b.WriteByte('\n')
			}
		}
	})
	return b.String()
}

func nodeTitle(n *Node) string {
	t := n.Name
	if n.Detail != "" {
		t += " (" + normalizeExpr(n.Detail) + ")"
	}
	if n.Args != "" {
		t += " " + normalizeExpr(n.Args)
	}
	return t
}

// droppedKeys are detail lines that change with data, statistics or id assignment.
var droppedKeys = []string{
	"tabletList", "cardinality", "avgRowSize", "actualRows", "numNodes", "Fragment Cost",
	"Estimates", "column statistics", "dictStringIdToIntIds", "dict_col", "EXCHANGE ID",
	"OutPut Exchange Id", "rows", "filtered", "cost_info", "select_id", "cost",
}

var (
	slotRef      = regexp.MustCompile(`\b\d+: ?([A-Za-z_\x60])`) // "5: sr_customer_sk", "5:sr_customer_sk"
	slotTag      = regexp.MustCompile(`<slot \d+>`)
	slotMap      = regexp.MustCompile(`^\d+ <-> `)
	idList       = regexp.MustCompile(`\[\d+(, \d+)*\]`) // LOGICAL's "[5, 9]"
	numberList   = regexp.MustCompile(`^\d+(, \d+)*$`)   // VERBOSE's "output columns: 5, 9, 12"
	filterID     = regexp.MustCompile(`filter_id = \d+`)
	ratio        = regexp.MustCompile(`\b(partitions|partitionsRatio|partitionRatio|tabletRatio|tabletsRatio)[=:] ?(\d+)/(\d+)`)
	columnStatic = regexp.MustCompile(`^\* .*-->`) // COSTS' "* col-->[min, max, nulls, size, ndv] ESTIMATE"
)

// normalizeAttr rewrites one detail line for comparison; false drops it.
func normalizeAttr(a string) (string, bool) {
	a = strings.TrimSpace(a)
	for _, k := range droppedKeys {
		if len(a) >= len(k) && strings.EqualFold(a[:len(k)], k) && (len(a) == len(k) || a[len(k)] == ':' || a[len(k)] == '=') {
			return "", false
		}
	}
	if columnStatic.MatchString(a) {
		return "", false
	}
	if k, v, ok := strings.Cut(a, ": "); ok && numberList.MatchString(strings.TrimSpace(v)) {
		return k + ": ?", true
	}
	a = slotMap.ReplaceAllString(a, "<-> ")
	a = ratio.ReplaceAllStringFunc(a, func(m string) string {
		s := ratio.FindStringSubmatch(m)
		what := "partitions"
		if strings.HasPrefix(s[1], "tablet") {
			what = "tablets"
		}
		return what + "=" + pruning(s[2], s[3])
	})
	// "tabletList=..." can hide inside a comma-joined VERBOSE line too.
	if i := strings.Index(a, "tabletList="); i >= 0 {
		a = strings.TrimRight(a[:i], ", ")
	}
	return normalizeExpr(a), a != ""
}

// pruning classifies selected/total: "none", "pruned" or "all".
func pruning(sel, total string) string {
	s, _ := strconv.Atoi(sel)
	t, _ := strconv.Atoi(total)
	switch {
	case s == 0:
		return "none"
	case s < t:
		return "pruned"
	default:
		return "all"
	}
}

// typedColumn is VERBOSE's column reference "[sr_customer_sk, INT, true]" once its slot id is gone.
var typedColumn = regexp.MustCompile(`\[([A-Za-z_]\w*), [^\[\]]*, (?:true|false)\]`)

// bareExpr is normalizeExpr with VERBOSE's typed column references reduced to the column name,
// so that the structure reads the same from every EXPLAIN level. (The normalised text keeps the
// types: a type change is worth seeing in the diff.)
func bareExpr(s string) string { return typedColumn.ReplaceAllString(normalizeExpr(s), "$1") }

// normalizeExpr drops slot ids from expressions.
func normalizeExpr(s string) string {
	s = slotRef.ReplaceAllString(s, "$1")
	s = slotTag.ReplaceAllString(s, "<slot>")
	s = idList.ReplaceAllString(s, "[ids]")
	s = filterID.ReplaceAllString(s, "filter_id = ?")
	return s
}
