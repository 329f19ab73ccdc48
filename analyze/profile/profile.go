// Package profile parses StarRocks query profiles (the text format of 3.x and 4.x, see
// ../shared/starrocks/README.md section 3) into a typed tree and derives the headline metrics
// srctl stores and compares. It does no I/O.
//
// The grammar is indentation-based: node lines ("Fragment 0:", "Pipeline (id=1):",
// "OLAP_SCAN (plan_node_id=0):", "CommonMetrics:") open nodes; entry lines ("- Key: value",
// "- Key" with a blank value, "- Group: " opening a counter group) belong to the node above them
// and nest under each other by indentation; "__MIN_OF_x"/"__MAX_OF_x" entries attach to x;
// "x__DUP(n)" keys are kept with their index; a line that is neither continues the previous
// entry's value (a multi-line Sql Statement). Parsing never fails: what it cannot place becomes a
// Warning and the rest of the profile is still read.
package profile

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// NodeKind classifies nodes of the tree.
type NodeKind uint8

var nodeKindNames = [...]string{"other", "query", "summary", "planner", "execution", "fragment", "pipeline", "operator", "metrics"}

// MarshalText writes the kind's name in JSON output.
func (k NodeKind) MarshalText() ([]byte, error) {
	if int(k) < len(nodeKindNames) {
		return []byte(nodeKindNames[k]), nil
	}
	return []byte("other"), nil
}

const (
	NodeOther     NodeKind = iota
	NodeQuery              // "Query:"
	NodeSummary            // "Summary:"
	NodePlanner            // "Planner:"
	NodeExecution          // "Execution:" (older: "Execution Profile <id>:")
	NodeFragment           // "Fragment N:"
	NodePipeline           // "Pipeline (id=N):"
	NodeOperator           // "NAME (plan_node_id=N):"
	NodeMetrics            // "CommonMetrics:" / "UniqueMetrics:"
)

// Node is one node line and what it holds.
type Node struct {
	Name       string   `json:"name"` // "OLAP_SCAN", "Fragment 0", "CommonMetrics"
	Kind       NodeKind `json:"kind"`
	ID         int      `json:"id"`           // fragment or pipeline id, else -1
	PlanNodeID int      `json:"plan_node_id"` // operators: plan_node_id (may be -1)
	Line       int      `json:"line"`         // 1-based line of the node header
	Entries    []*Entry `json:"entries,omitempty"`
	Children   []*Node  `json:"children,omitempty"`
	indent     int
}

// Entry is one "- key: value" line with its nested entries.
type Entry struct {
	Key      string   `json:"key"` // without __DUP(n)
	Dup      int      `json:"dup"` // n of key__DUP(n), -1 when absent
	Value    Value    `json:"value"`
	Min      *Value   `json:"min,omitempty"` // merged instance minimum (__MIN_OF_)
	Max      *Value   `json:"max,omitempty"` // merged instance maximum (__MAX_OF_)
	Children []*Entry `json:"children,omitempty"`
	Line     int      `json:"line"`
	indent   int
}

// Warning is a line the parser could not place or read. Warnings never stop the parse.
type Warning struct {
	Line int    `json:"line"`
	Msg  string `json:"message"`
}

func (w Warning) String() string { return fmt.Sprintf("line %d: %s", w.Line, w.Msg) }

// Profile is a parsed profile.
type Profile struct {
	Root      *Node
	Summary   *Node
	Planner   *Node
	Execution *Node
	Warnings  []Warning
}

// Query states as the Summary prints them.
const (
	StateFinished = "Finished"
	StateError    = "Error"
	StateRunning  = "Running"
)

// Parse reads a profile in the text format or, when it starts with '{', the JSON format
// (profile_info_format=json, see json.go) into the same tree.
func Parse(text string) *Profile {
	if looksLikeJSON(text) {
		return parseJSON(text)
	}
	p := &Profile{}
	var (
		nodes   []*Node  // stack of open nodes
		entries []*Entry // stack of open entries of the innermost node
		last    *Entry   // the entry a continuation line extends
		lastSQL bool     // last is the Sql Statement: only a sibling entry or a node ends it
	)
	lineNo := 0
	for len(text) > 0 {
		lineStart := text
		content, indent, rest := nextLine(text)
		text = rest
		lineNo++
		line := strings.TrimRight(lineStart[:len(lineStart)-len(rest)], "\r\n") // continuation lines keep their indentation
		isEntry, isNode := classify(content)
		if content == "" {
			if last != nil && lastSQL {
				last.Value.Raw += "\n"
			}
			continue
		}
		if lastSQL && last != nil {
			// Sql Statement text ends at the next entry of its own level or at a node.
			ends := (isEntry && indent <= last.indent) || (isNode && indent < last.indent)
			if !ends {
				last.Value.Raw += "\n" + line
				continue
			}
		}
		switch {
		case isNode:
			n := newNode(strings.TrimSuffix(content, ":"), indent, lineNo)
			for len(nodes) > 0 && nodes[len(nodes)-1].indent >= indent {
				nodes = nodes[:len(nodes)-1]
			}
			if len(nodes) == 0 {
				if p.Root != nil {
					p.Warnings = append(p.Warnings, Warning{lineNo, fmt.Sprintf("second top-level node %q", n.Name)})
				}
				if p.Root == nil || n.Kind == NodeQuery {
					p.Root = n
				}
			} else {
				parent := nodes[len(nodes)-1]
				parent.Children = append(parent.Children, n)
			}
			nodes = append(nodes, n)
			p.index(n)
			entries, last, lastSQL = entries[:0], nil, false
		case isEntry:
			if len(nodes) == 0 {
				p.Warnings = append(p.Warnings, Warning{lineNo, "entry before any node"})
				continue
			}
			owner := nodes[len(nodes)-1]
			body := strings.TrimPrefix(strings.TrimPrefix(content, "-"), " ")
			var e *Entry
			if owner.Kind == NodePlanner && strings.Contains(body, "-- ") {
				e = parsePlannerEntry(body, indent, lineNo)
			} else {
				e = parseEntry(body, indent, lineNo)
			}
			if e.Value.Kind == Unknown {
				p.Warnings = append(p.Warnings, Warning{lineNo, fmt.Sprintf("unknown value form %q for %s", e.Value.Raw, e.Key)})
			}
			for len(entries) > 0 && entries[len(entries)-1].indent >= e.indent {
				entries = entries[:len(entries)-1]
			}
			if m, ok := strings.CutPrefix(e.Key, "__MAX_OF_"); ok && len(entries) > 0 && entries[len(entries)-1].Key == m {
				v := e.Value
				entries[len(entries)-1].Max = &v
				continue
			}
			if m, ok := strings.CutPrefix(e.Key, "__MIN_OF_"); ok && len(entries) > 0 && entries[len(entries)-1].Key == m {
				v := e.Value
				entries[len(entries)-1].Min = &v
				continue
			}
			if len(entries) == 0 {
				owner.Entries = append(owner.Entries, e)
			} else {
				parent := entries[len(entries)-1]
				parent.Children = append(parent.Children, e)
			}
			entries = append(entries, e)
			last, lastSQL = e, owner.Kind == NodeSummary && e.Key == "Sql Statement"
		default:
			if last == nil {
				p.Warnings = append(p.Warnings, Warning{lineNo, fmt.Sprintf("unrecognised line %q", truncate(content, 60))})
				continue
			}
			last.Value.Raw += "\n" + line // a value that spans lines
		}
	}
	if p.Root == nil {
		p.Warnings = append(p.Warnings, Warning{1, "no profile structure found"})
	}
	return p
}

// nextLine splits the first line off text and its indentation off the line; Parse and
// ScanHeadlines share it (and classify) so that they read lines alike.
func nextLine(text string) (content string, indent int, rest string) {
	line := text
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		line, rest = text[:i], text[i+1:]
	}
	for len(line) > 0 && line[len(line)-1] == '\r' { // strings.TrimRight(line, "\r"), inlined
		line = line[:len(line)-1]
	}
	indent = leadingSpaces(line)
	return line[indent:], indent, rest
}

// leadingSpaces counts the spaces and tabs that start s: eight bytes at a time while they are
// all spaces (a profile's lines are indented by a dozen or more), then one at a time.
func leadingSpaces(s string) int {
	const spaces = 0x2020202020202020
	n := 0
	for len(s)-n >= 8 {
		if x := load64(s[n:]) ^ spaces; x != 0 {
			n += bits.TrailingZeros64(x) / 8 // the first byte that is not a space
			break
		}
		n += 8
	}
	for n < len(s) && (s[n] == ' ' || s[n] == '\t') {
		n++
	}
	return n
}

// classify tells the grammar's two line shapes apart: entries ("- key: value", "- key", "-")
// and node headers ("Name:", with no ": " inside, so entries and values never qualify).
func classify(content string) (isEntry, isNode bool) {
	isEntry = content == "-" || strings.HasPrefix(content, "- ")
	return isEntry, !isEntry && strings.HasSuffix(content, ":") && !hasColonSpace(content)
}

// load64 reads s's first eight bytes as a little-endian word (the compiler makes it one load).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// hasColonSpace is strings.Contains(s, ": "), found by its colons: a node's header has one, at
// its end, which IndexByte reaches faster than a two-byte search.
func hasColonSpace(s string) bool {
	for {
		i := strings.IndexByte(s, ':')
		if i < 0 || i+1 >= len(s) {
			return false
		}
		if s[i+1] == ' ' {
			return true
		}
		s = s[i+1:]
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func (p *Profile) index(n *Node) {
	switch n.Kind {
	case NodeSummary:
		p.Summary = n
	case NodePlanner:
		p.Planner = n
	case NodeExecution:
		p.Execution = n
	}
}

func newNode(name string, indent, line int) *Node {
	n := &Node{Name: name, indent: indent, Line: line, PlanNodeID: -1, ID: -1}
	switch {
	case name == "Query":
		n.Kind = NodeQuery
	case name == "Summary":
		n.Kind = NodeSummary
	case name == "Planner":
		n.Kind = NodePlanner
	case name == "Execution" || strings.HasPrefix(name, "Execution Profile"):
		n.Kind = NodeExecution
	case name == "CommonMetrics" || name == "UniqueMetrics":
		n.Kind = NodeMetrics
	case strings.HasPrefix(name, "Fragment "):
		if id, err := strconv.Atoi(name[len("Fragment "):]); err == nil {
			n.Kind, n.ID = NodeFragment, id
		}
	case strings.HasPrefix(name, "Pipeline (id=") && strings.HasSuffix(name, ")"):
		if id, err := strconv.Atoi(name[len("Pipeline (id=") : len(name)-1]); err == nil {
			n.Kind, n.ID = NodePipeline, id
		}
	default:
		if op, rest, ok := strings.Cut(name, " (plan_node_id="); ok && strings.HasSuffix(rest, ")") {
			if id, err := strconv.Atoi(rest[:len(rest)-1]); err == nil {
				n.Kind, n.Name, n.PlanNodeID = NodeOperator, op, id
			}
		}
	}
	return n
}

func parseEntry(body string, indent, line int) *Entry {
	e := &Entry{Dup: -1, Line: line, indent: indent}
	key, val, ok := strings.Cut(body, ": ")
	if !ok {
		key = strings.TrimSuffix(strings.TrimRight(body, " "), ":")
	}
	if i := strings.LastIndex(key, "__DUP("); i > 0 && strings.HasSuffix(key, ")") {
		if n, err := strconv.Atoi(key[i+len("__DUP(") : len(key)-1]); err == nil {
			key, e.Dup = key[:i], n
		}
	}
	e.Key = key
	e.Value = parseValue(val)
	e.Value.Raw = val
	if e.Value.Kind != Blank && e.Value.Kind != String {
		e.Value.Raw = strings.TrimSpace(val)
	}
	return e
}

// parsePlannerEntry reads "-- Name[count] time"; the spaces before "--" give the depth, which
// becomes the entry's indentation so that nested timers nest.
func parsePlannerEntry(body string, indent, line int) *Entry {
	depth := strings.Index(body, "-- ")
	rest := body[depth+3:]
	e := &Entry{Dup: -1, Line: line, indent: indent + depth}
	name, val, _ := strings.Cut(rest, " ")
	if i := strings.IndexByte(name, '['); i > 0 {
		name = name[:i]
	}
	e.Key = name
	e.Value = parseValue(val)
	return e
}
