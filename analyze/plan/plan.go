// Package plan parses EXPLAIN output into a tree, normalises what changes with data and
// statistics, and says in words what changed in the structure of two plans. It reads StarRocks'
// text levels (plain, COSTS and VERBOSE, which share one layout; see
// ../shared/starrocks/README.md section 4), StarRocks' EXPLAIN LOGICAL, and MySQL/MariaDB's
// EXPLAIN FORMAT=JSON. It does no I/O.
//
// StarRocks prints a plan as fragments ("PLAN FRAGMENT 1"), each a header (output exprs,
// partition, sink) then a node tree. A node is a headline "4:HASH JOIN" followed by its detail
// lines; a node with several children prints "|  key: value" details, then every child but the
// first as "|----3:EXCHANGE" with its subtree indented by "|    ", then the first child at the
// node's own indentation. Leaves print their details indented by spaces. Fragments meet at
// exchanges: the sending fragment's sink names the EXCHANGE node that receives it.
package plan

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Format is the kind of EXPLAIN a plan was read from.
type Format string

const (
	FormatText      Format = "text"       // StarRocks EXPLAIN / EXPLAIN COSTS
	FormatVerbose   Format = "verbose"    // StarRocks EXPLAIN VERBOSE
	FormatLogical   Format = "logical"    // StarRocks EXPLAIN LOGICAL
	FormatMySQLJSON Format = "mysql-json" // MySQL / MariaDB EXPLAIN FORMAT=JSON
)

// Plan is a parsed EXPLAIN.
type Plan struct {
	Format    Format      `json:"format"`
	Preamble  []string    `json:"preamble,omitempty"`  // lines before the first fragment ("RESOURCE GROUP: ...")
	Fragments []*Fragment `json:"fragments,omitempty"` // text formats only
	// Root is the whole plan as one tree: for the text formats fragment 0's tree with every
	// EXCHANGE given the sending fragment's tree as its child.
	Root     *Node     `json:"root"`
	Warnings []Warning `json:"warnings,omitempty"`
}

// Fragment is one "PLAN FRAGMENT n" block.
type Fragment struct {
	ID     int      `json:"id"`
	Label  string   `json:"label,omitempty"`  // "F04" of VERBOSE's "PLAN FRAGMENT 0(F04)"
	Header []string `json:"header,omitempty"` // output exprs, partition, sink lines, trimmed
	// ExchangeID is the EXCHANGE node that receives this fragment's output, -1 for the result sink.
	ExchangeID int `json:"exchange_id"`
	// SinkPartition is how the output is distributed ("HASH_PARTITIONED", "UNPARTITIONED", ...).
	SinkPartition string `json:"sink_partition,omitempty"`
	Root          *Node  `json:"-"`
}

// Node is one plan operator.
type Node struct {
	ID       int      `json:"id"`               // plan node id; -1 when the format prints none
	Name     string   `json:"name"`             // "HASH JOIN", "OlapScanNode", "AGGREGATE", "SCAN"
	Detail   string   `json:"detail,omitempty"` // "merge finalize", "GLOBAL", exchange distribution
	Args     string   `json:"args,omitempty"`   // the headline's bracketed part in LOGICAL ("[store_returns] => [...]")
	Attrs    []string `json:"attrs,omitempty"`  // detail lines, trimmed, in order
	Children []*Node  `json:"children,omitempty"`
	Fragment int      `json:"fragment"` // fragment id, -1 outside the text formats
	Line     int      `json:"line"`     // 1-based line of the headline
}

// Warning is a line the parser could not place. Warnings never stop the parse.
type Warning struct {
	Line int    `json:"line"`
	Msg  string `json:"message"`
}

func (w Warning) String() string { return fmt.Sprintf("line %d: %s", w.Line, w.Msg) }

// Attr returns the value of the first detail line "key: value" or "key=value" (key compared
// case-insensitively), and whether there was one.
func (n *Node) Attr(key string) (string, bool) {
	for _, a := range n.Attrs {
		if len(a) > len(key) && strings.EqualFold(a[:len(key)], key) {
			switch {
			case strings.HasPrefix(a[len(key):], ": "):
				return a[len(key)+2:], true
			case a[len(key)] == '=' || a[len(key)] == ':':
				return strings.TrimSpace(a[len(key)+1:]), true
			}
		}
	}
	return "", false
}

// Walk calls fn for n and every node below it, parents first.
func (n *Node) Walk(fn func(n *Node, depth int)) { n.walk(fn, 0) }

func (n *Node) walk(fn func(*Node, int), depth int) {
	if n == nil {
		return
	}
	fn(n, depth)
	for _, c := range n.Children {
		c.walk(fn, depth+1)
	}
}

// Parse reads EXPLAIN output in any supported format: the text as StarRocks returns it (one row
// per line, or the rows joined), the mysql client's boxed table or tab-separated output of the
// same, EXPLAIN LOGICAL, or MySQL/MariaDB EXPLAIN FORMAT=JSON. It never fails; what it cannot
// place becomes a Warning.
func Parse(text string) *Plan {
	text = strings.TrimPrefix(text, "\ufeff")
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		return parseMySQLJSON(t)
	}
	lines := unwrapClientOutput(strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n"))
	for _, l := range lines {
		if t := strings.TrimSpace(l); t != "" {
			if logicalHeadline.MatchString(t) {
				return parseLogical(lines)
			}
			break
		}
	}
	return parseText(lines)
}

// logicalHeadline matches EXPLAIN LOGICAL's first line ("- Output => [...]") or, for a fragment
// of one, any operator headline: "- NAME[(detail)] [args] [=> [outputs]]" in capitals.
var logicalHeadline = regexp.MustCompile(`^- (Output =>|[A-Z][A-Z0-9/_ -]*(\([^)]*\))?( \[| =>|$))`)

// unwrapClientOutput strips what the mysql command-line client adds around the rows: the boxed
// table ("+----+", "| Explain String |", "| row |") or the tab-separated header line.
func unwrapClientOutput(lines []string) []string {
	first := ""
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			first = strings.TrimSpace(l)
			break
		}
	}
	switch {
	case strings.HasPrefix(first, "+-"):
		out := make([]string, 0, len(lines))
		header := true
		for _, l := range lines {
			t := strings.TrimRight(l, " \t")
			if strings.HasPrefix(t, "+-") {
				continue
			}
			if strings.HasPrefix(t, "|") {
				body := strings.TrimPrefix(t, "| ")
				body = strings.TrimSuffix(strings.TrimSuffix(body, "|"), " ")
				if header {
					header = false
					if isExplainHeader(body) {
						continue
					}
				}
				out = append(out, strings.TrimRight(body, " "))
				continue
			}
			if strings.Contains(t, "rows in set") || strings.Contains(t, "row in set") || t == "" {
				continue
			}
			out = append(out, t)
		}
		return out
	case isExplainHeader(first):
		for i, l := range lines {
			if strings.TrimSpace(l) == first {
				return lines[i+1:]
			}
		}
	}
	return lines
}

func isExplainHeader(s string) bool {
	s = strings.TrimSpace(s)
	return strings.EqualFold(s, "Explain String") || strings.EqualFold(s, "EXPLAIN")
}

// parseText reads the fragment layout of EXPLAIN, EXPLAIN COSTS and EXPLAIN VERBOSE.
func parseText(lines []string) *Plan {
	p := &Plan{Format: FormatText}
	var cur *Fragment
	i := 0
	for i < len(lines) {
		line := strings.TrimRight(lines[i], " \t")
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			i++
		case strings.HasPrefix(t, "PLAN FRAGMENT "):
			cur = newFragment(t, i+1, p)
			p.Fragments = append(p.Fragments, cur)
			i++
		case cur == nil:
			p.Preamble = append(p.Preamble, t)
			i++
		case cur.Root == nil && headline(line) >= 0:
			prefix := line[:headline(line)]
			var n *Node
			n, i = parseNode(lines, i, prefix, prefix, cur.ID, p)
			cur.Root = n
		case cur.Root == nil:
			readFragmentHeader(cur, t)
			if strings.HasPrefix(t, "Fragment Cost:") || strings.HasPrefix(t, "OutPut ") || strings.HasPrefix(t, "Input Partition") {
				p.Format = FormatVerbose
			}
			i++
		default:
			p.Warnings = append(p.Warnings, Warning{i + 1, fmt.Sprintf("line after fragment %d's tree: %q", cur.ID, truncate(t, 60))})
			i++
		}
	}
	if len(p.Fragments) == 0 {
		p.Warnings = append(p.Warnings, Warning{1, "no PLAN FRAGMENT found"})
		return p
	}
	linkFragments(p)
	return p
}

func newFragment(t string, line int, p *Plan) *Fragment {
	f := &Fragment{ID: -1, ExchangeID: -1}
	rest := strings.TrimPrefix(t, "PLAN FRAGMENT ")
	if i := strings.IndexByte(rest, '('); i > 0 && strings.HasSuffix(rest, ")") {
		f.Label = rest[i+1 : len(rest)-1]
		rest = rest[:i]
	}
	id, err := strconv.Atoi(strings.TrimSpace(rest))
	if err != nil {
		p.Warnings = append(p.Warnings, Warning{line, fmt.Sprintf("fragment id %q", rest)})
	}
	f.ID = id
	return f
}

// readFragmentHeader keeps a header line and picks out where the fragment's output goes.
func readFragmentHeader(f *Fragment, t string) {
	f.Header = append(f.Header, t)
	switch {
	case strings.HasPrefix(t, "EXCHANGE ID: "), strings.HasPrefix(t, "OutPut Exchange Id: "):
		_, v, _ := strings.Cut(t, ": ")
		if id, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			f.ExchangeID = id
		}
	case strings.HasPrefix(t, "OutPut Partition: "):
		f.SinkPartition = partitionKind(strings.TrimPrefix(t, "OutPut Partition: "))
	case len(f.Header) >= 2 && strings.HasPrefix(f.Header[len(f.Header)-2], "EXCHANGE ID: "):
		// Plain EXPLAIN prints the sink's distribution on the line after its exchange id.
		f.SinkPartition = partitionKind(t)
	}
}

func partitionKind(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ':'); i > 0 {
		s = s[:i]
	}
	return s
}

// headline returns the column where a node headline ("4:HASH JOIN") starts in line, after a
// prefix made only of spaces, '|' and '-', or -1.
func headline(line string) int {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '|' || line[i] == '-') {
		i++
	}
	j := i
	for j < len(line) && line[j] >= '0' && line[j] <= '9' {
		j++
	}
	if j == i || j+1 >= len(line) || line[j] != ':' || line[j+1] == ' ' {
		return -1
	}
	return i
}

// parseNode reads the node whose headline is lines[i], printed after head, with details and
// children after detail; it returns the node and the index of the first line not its own.
func parseNode(lines []string, i int, head, detail string, frag int, p *Plan) (*Node, int) {
	line := strings.TrimRight(lines[i], " \t")
	n := &Node{Fragment: frag, Line: i + 1, ID: -1}
	idText, rest, _ := strings.Cut(line[len(head):], ":")
	n.ID, _ = strconv.Atoi(idText)
	n.Name, n.Detail = splitName(rest)
	i++
	var firstChildSeen bool
	for i < len(lines) && !firstChildSeen {
		l := strings.TrimRight(lines[i], " \t")
		switch {
		case strings.TrimSpace(l) == "":
			return n, i // a blank line ends the fragment's tree
		case !strings.HasPrefix(l, detail):
			return n, i // belongs to an ancestor
		case l == detail+"|":
			i++ // separator
		case strings.HasPrefix(l, detail+"|----") && headline(l) == len(detail)+5:
			var c *Node
			c, i = parseNode(lines, i, detail+"|----", detail+"|    ", frag, p)
			n.Children = append(n.Children, c)
		case headline(l) == len(detail) && len(l) > len(detail) && l[len(detail)] >= '0' && l[len(detail)] <= '9':
			// The first child comes last, at the node's own detail indentation.
			var c *Node
			c, i = parseNode(lines, i, detail, detail, frag, p)
			n.Children = append([]*Node{c}, n.Children...)
			firstChildSeen = true
		case strings.HasPrefix(l, detail+"|  "), strings.HasPrefix(l, detail+"|\t"):
			n.Attrs = append(n.Attrs, strings.TrimSpace(l[len(detail)+1:]))
			i++
		case strings.HasPrefix(l, detail+" "):
			n.Attrs = append(n.Attrs, strings.TrimSpace(l[len(detail):]))
			i++
		default:
			p.Warnings = append(p.Warnings, Warning{i + 1, fmt.Sprintf("unplaced line %q under %d:%s", truncate(strings.TrimSpace(l), 60), n.ID, n.Name)})
			i++
		}
	}
	return n, i
}

// splitName splits "AGGREGATE (merge finalize)" into name and detail.
func splitName(s string) (name, detail string) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, " ("); i > 0 && strings.HasSuffix(s, ")") {
		return s[:i], s[i+2 : len(s)-1]
	}
	return s, ""
}

// linkFragments makes Root the whole plan: each EXCHANGE node gets the tree of the fragment
// that sends to it as its child, and, when the format does not print it on the exchange, the
// sender's distribution as its detail.
func linkFragments(p *Plan) {
	senders := map[int]*Fragment{}
	for _, f := range p.Fragments {
		if f.ExchangeID >= 0 {
			senders[f.ExchangeID] = f
		}
	}
	linked := map[*Fragment]bool{}
	var link func(n *Node)
	link = func(n *Node) {
		for _, c := range n.Children {
			link(c)
		}
		if n.Name != "EXCHANGE" && n.Name != "MERGING-EXCHANGE" {
			return
		}
		if d, ok := n.Attr("distribution type"); ok && n.Detail == "" {
			n.Detail = d
		}
		f := senders[n.ID]
		if f == nil || f.Root == nil || linked[f] {
			return
		}
		linked[f] = true
		if n.Detail == "" {
			n.Detail = f.SinkPartition
		}
		n.Children = append(n.Children, f.Root)
		link(f.Root)
	}
	for _, f := range p.Fragments {
		if f.Root == nil {
			p.Warnings = append(p.Warnings, Warning{0, fmt.Sprintf("fragment %d has no plan nodes", f.ID)})
		}
	}
	root := p.Fragments[0]
	for _, f := range p.Fragments {
		if f.ID == 0 {
			root = f
		}
	}
	if root.Root == nil {
		return
	}
	linked[root] = true
	link(root.Root)
	p.Root = root.Root
	for _, f := range p.Fragments {
		if !linked[f] && f.Root != nil {
			p.Warnings = append(p.Warnings, Warning{f.Root.Line, fmt.Sprintf("fragment %d is not connected to the plan (exchange id %d)", f.ID, f.ExchangeID)})
		}
	}
}

// parseLogical reads EXPLAIN LOGICAL: "- NAME[(detail)] [args] => [outputs]" headlines nested by
// indentation, detail lines indented under them.
func parseLogical(lines []string) *Plan {
	p := &Plan{Format: FormatLogical}
	type open struct {
		n      *Node
		indent int
	}
	var stack []open
	for i, raw := range lines {
		l := strings.TrimRight(raw, " \t")
		t := strings.TrimLeft(l, " ")
		if t == "" {
			continue
		}
		indent := len(l) - len(t)
		if strings.HasPrefix(t, "- ") {
			n := &Node{ID: -1, Fragment: -1, Line: i + 1}
			head := t[2:]
			// The name ends at the first " [" (arguments) or " =>" (outputs) outside parentheses
			// ("TOP-N (order by [[...]])" keeps its detail).
			cut := len(head)
			depth := 0
			for j := 0; j < len(head) && cut == len(head); j++ {
				switch {
				case head[j] == '(':
					depth++
				case head[j] == ')':
					depth--
				case depth == 0 && (strings.HasPrefix(head[j:], " [") || strings.HasPrefix(head[j:], " =>")):
					cut = j
				}
			}
			if cut < len(head) {
				n.Args, head = head[cut+1:], head[:cut]
			}
			if j := strings.IndexByte(head, '('); j > 0 && strings.HasSuffix(head, ")") {
				n.Name, n.Detail = strings.TrimSpace(head[:j]), head[j+1:len(head)-1]
			} else {
				n.Name = head
			}
			for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
				stack = stack[:len(stack)-1]
			}
			if len(stack) == 0 {
				if p.Root != nil {
					p.Warnings = append(p.Warnings, Warning{i + 1, "second top-level node " + n.Name})
				} else {
					p.Root = n
				}
			} else {
				parent := stack[len(stack)-1].n
				parent.Children = append(parent.Children, n)
			}
			stack = append(stack, open{n, indent})
			continue
		}
		if len(stack) == 0 {
			p.Preamble = append(p.Preamble, t)
			continue
		}
		owner := stack[len(stack)-1].n
		owner.Attrs = append(owner.Attrs, t)
	}
	if p.Root == nil {
		p.Warnings = append(p.Warnings, Warning{1, "no plan nodes found"})
	}
	return p
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
