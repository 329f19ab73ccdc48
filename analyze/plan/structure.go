package plan

import (
	"sort"
	"strings"
)

// The structural view of a plan: what an engineer looks at first when a plan changes. It is
// derived from the tree the same way for every format, so that a StarRocks plan and a MySQL plan
// answer the same questions (which tables are scanned and how, in which join order, where the
// data moves, where it is aggregated).

// Scan is one table read.
type Scan struct {
	Table      string `json:"table"`
	Rollup     string `json:"rollup,omitempty"`     // StarRocks rollup / MySQL index used
	Access     string `json:"access,omitempty"`     // MySQL access_type ("ALL", "ref", "range")
	Predicates string `json:"predicates,omitempty"` // normalised
	Partitions string `json:"partitions,omitempty"` // "all", "pruned", "none", "" when not printed
	PartsText  string `json:"partitions_text,omitempty"`
	MV         bool   `json:"materialized_view,omitempty"`
	node       *Node
}

// Join is one join node.
type Join struct {
	Op           string   `json:"op"`                     // "INNER JOIN", "LEFT OUTER JOIN", "CROSS JOIN"
	Distribution string   `json:"distribution,omitempty"` // "BROADCAST", "PARTITIONED", "COLOCATE", "BUCKET_SHUFFLE", "REPLICATED"
	Probe        []string `json:"probe"`                  // tables under the first child (probe side)
	Build        []string `json:"build"`                  // tables under the other children (build side)
	// On is the normalised join condition with the sides of each equality sorted, which names
	// the logical join whatever order the optimizer chose ("" when the format prints none).
	On   string `json:"on,omitempty"`
	node *Node
}

// Aggregation is one aggregation node.
type Aggregation struct {
	Phase   string   `json:"phase"` // "update serialize", "merge finalize", "GLOBAL", ...
	GroupBy string   `json:"group_by,omitempty"`
	Over    []string `json:"over"` // tables below it
	Above   string   `json:"above"`
}

// Exchange is one data movement between fragments.
type Exchange struct {
	Distribution string   `json:"distribution"`
	Over         []string `json:"over"`
}

// Structure is the structural view of a plan.
type Structure struct {
	Scans        []Scan         `json:"scans"`
	Joins        []Join         `json:"joins"`
	JoinTree     string         `json:"join_tree"` // "((store_returns ⋈ date_dim) ⋈ store)"
	Aggregations []Aggregation  `json:"aggregations"`
	Exchanges    []Exchange     `json:"exchanges"`
	Nodes        map[string]int `json:"nodes"` // operator kind -> count
}

// Structure derives the structural view.
func (p *Plan) Structure() Structure {
	s := Structure{Nodes: map[string]int{}}
	if p == nil || p.Root == nil {
		return s
	}
	var visit func(n *Node, parent *Node)
	visit = func(n *Node, parent *Node) {
		s.Nodes[nodeKind(n)]++
		switch {
		case isScan(n):
			s.Scans = append(s.Scans, scanOf(n))
		case isJoin(n):
			j := Join{node: n}
			j.Op, j.Distribution = joinOp(n)
			j.On = joinCondition(n)
			if len(n.Children) > 0 {
				j.Probe = tablesUnder(n.Children[0])
				for _, c := range n.Children[1:] {
					j.Build = append(j.Build, tablesUnder(c)...)
				}
			}
			s.Joins = append(s.Joins, j)
		case isAggregate(n):
			g, _ := n.Attr("group by")
			a := Aggregation{Phase: n.Detail, GroupBy: bareExpr(g), Over: tablesUnder(n)}
			if parent != nil {
				a.Above = nodeKind(parent)
			}
			if a.GroupBy == "" && n.Args != "" {
				a.GroupBy = bareExpr(strings.TrimSuffix(strings.TrimPrefix(n.Args, "["), "]"))
			}
			s.Aggregations = append(s.Aggregations, a)
		case isExchange(n):
			s.Exchanges = append(s.Exchanges, Exchange{Distribution: exchangeKind(n), Over: tablesUnder(n)})
		}
		for _, c := range n.Children {
			visit(c, n)
		}
	}
	visit(p.Root, nil)
	s.JoinTree = joinTree(p.Root)
	return s
}

// nodeKind names a node for counting: the name, with the join or aggregation flavour.
func nodeKind(n *Node) string {
	switch {
	case isScan(n):
		return "SCAN"
	case isJoin(n):
		return "JOIN"
	case isExchange(n):
		return "EXCHANGE"
	case isAggregate(n):
		return "AGGREGATE"
	}
	return strings.ToUpper(n.Name)
}

func isScan(n *Node) bool {
	name := strings.ToUpper(n.Name)
	return strings.HasSuffix(name, "SCANNODE") || strings.HasSuffix(name, "SCAN") || name == "TABLE"
}

func isJoin(n *Node) bool {
	// "HASH JOIN", "NESTLOOP JOIN", "CROSS JOIN", LOGICAL "HASH/INNER JOIN", MySQL "nested_loop";
	// not MariaDB's "block-nl-join", which wraps one table of a nested loop.
	name := strings.ToUpper(n.Name)
	return strings.Contains(name, " JOIN") || name == "NESTED_LOOP"
}

func isExchange(n *Node) bool {
	name := strings.ToUpper(n.Name)
	return name == "EXCHANGE" || name == "MERGING-EXCHANGE"
}

func isAggregate(n *Node) bool {
	name := strings.ToUpper(n.Name)
	return name == "AGGREGATE" || name == "GROUPING_OPERATION"
}

func scanOf(n *Node) Scan {
	s := Scan{node: n}
	if t, ok := n.Attr("TABLE"); ok {
		s.Table = t
		if tab, roll, ok := strings.Cut(t, ", rollup: "); ok { // VERBOSE: "table: t, rollup: r"
			s.Table, s.Rollup = tab, roll
		}
	} else if t, ok := n.Attr("table_name"); ok {
		s.Table = t
	} else if strings.HasPrefix(n.Args, "[") { // LOGICAL: "SCAN [store_returns] => [...]"
		if end := strings.IndexByte(n.Args, ']'); end > 0 {
			s.Table = n.Args[1:end]
		}
	}
	if r, ok := n.Attr("rollup"); ok && s.Rollup == "" {
		s.Rollup = r
	}
	if k, ok := n.Attr("key"); ok {
		s.Rollup = k
	}
	s.Access, _ = n.Attr("access_type")
	for _, key := range []string{"PREDICATES", "predicate", "attached_condition"} {
		if v, ok := n.Attr(key); ok {
			s.Predicates = bareExpr(v)
			break
		}
	}
	for _, a := range n.Attrs {
		if m := ratio.FindStringSubmatch(a); m != nil && strings.HasPrefix(m[1], "partition") {
			s.Partitions, s.PartsText = pruning(m[2], m[3]), m[2]+"/"+m[3]
		}
		if strings.EqualFold(a, "MaterializedView: true") {
			s.MV = true
		}
	}
	return s
}

// joinOp reads "join op: INNER JOIN (BROADCAST)", LOGICAL's "HASH/INNER JOIN" or a MySQL block.
func joinOp(n *Node) (op, dist string) {
	if v, ok := n.Attr("join op"); ok {
		op, dist = splitName(v)
		return op, dist
	}
	if strings.Contains(n.Name, "/") { // LOGICAL "HASH/INNER JOIN"; distribution shows as a child exchange
		_, op, _ = strings.Cut(n.Name, "/")
		for _, c := range n.Children[min(1, len(n.Children)):] {
			if isExchange(c) {
				dist = c.Detail
			}
		}
		return op, dist
	}
	return n.Name, n.Detail
}

// joinCondition reads "equal join conjunct: a = b" lines (or LOGICAL's "[a = b]") into a
// side-independent key.
func joinCondition(n *Node) string {
	var conds []string
	for _, a := range n.Attrs {
		if v, ok := strings.CutPrefix(a, "equal join conjunct: "); ok {
			conds = append(conds, v)
		}
	}
	if len(conds) == 0 && strings.HasPrefix(n.Args, "[") {
		if end := strings.IndexByte(n.Args, ']'); end > 0 {
			conds = strings.Split(n.Args[1:end], ", ")
		}
	}
	for i, c := range conds {
		c = bareExpr(c)
		if l, r, ok := strings.Cut(c, " = "); ok && !strings.Contains(r, " = ") && r < l {
			c = r + " = " + l
		}
		conds[i] = c
	}
	sort.Strings(conds)
	return strings.Join(conds, " AND ")
}

func exchangeKind(n *Node) string {
	if n.Detail != "" {
		return n.Detail
	}
	return "UNKNOWN"
}

// tablesUnder lists the tables scanned below n (n included), in plan order.
func tablesUnder(n *Node) []string {
	var out []string
	n.Walk(func(c *Node, _ int) {
		if isScan(c) {
			out = append(out, scanOf(c).Table)
		}
	})
	return out
}

// joinTree writes the join shape with tables as leaves: "((a ⋈ b) ⋈ c)", probe side first.
func joinTree(n *Node) string {
	var rec func(n *Node) string
	rec = func(n *Node) string {
		switch {
		case isScan(n):
			return scanOf(n).Table
		case isJoin(n):
			var sides []string
			for _, c := range n.Children {
				if s := rec(c); s != "" {
					sides = append(sides, s)
				}
			}
			return "(" + strings.Join(sides, " ⋈ ") + ")"
		}
		var kids []string
		for _, c := range n.Children {
			if s := rec(c); s != "" {
				kids = append(kids, s)
			}
		}
		if len(kids) > 1 {
			return strings.ToLower(nodeKind(n)) + "(" + strings.Join(kids, ", ") + ")"
		}
		if len(kids) == 1 {
			return kids[0]
		}
		return ""
	}
	return rec(n)
}

func tableSet(ts []string) string {
	c := append([]string(nil), ts...)
	sort.Strings(c)
	return strings.Join(c, ", ")
}
