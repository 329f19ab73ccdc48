package plan

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// MySQL and MariaDB print EXPLAIN FORMAT=JSON as nested objects: "query_block" holds
// "nested_loop" (an array of joined tables, in join order), "table" objects (table_name,
// access_type, key, attached_condition, ...), and operation wrappers such as
// "grouping_operation", "ordering_operation", "filesort", "temporary_table", "block-nl-join" or
// "materialized_from_subquery". The two servers differ in details (MariaDB 10 puts a lone "table"
// directly under "query_block"; MariaDB 11 adds "cost" everywhere; ANALYZE adds "r_*" fields),
// so the reader is generic: every object becomes a node named by its key, scalar members become
// "key: value" details, object and array members become children, and the numbers that change
// with data (row estimates, costs, filtered percentages, timings) are dropped.

// parseMySQLJSON reads EXPLAIN FORMAT=JSON. Key order is kept, because it is the join order.
func parseMySQLJSON(text string) *Plan {
	p := &Plan{Format: FormatMySQLJSON}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	root := &Node{Name: "explain", ID: -1, Fragment: -1}
	v, err := decodeOrdered(dec)
	if err != nil {
		p.Warnings = append(p.Warnings, Warning{1, "EXPLAIN JSON: " + err.Error()})
		return p
	}
	addJSONMembers(root, v)
	if len(root.Children) == 1 && len(root.Attrs) == 0 {
		p.Root = root.Children[0]
	} else {
		p.Root = root
	}
	if p.Root == nil || len(p.Root.Children) == 0 && len(p.Root.Attrs) == 0 {
		p.Warnings = append(p.Warnings, Warning{1, "EXPLAIN JSON: no plan found"})
	}
	return p
}

// member is one key/value of an object in document order.
type member struct {
	key string
	val any // string, json.Number, bool, nil, []member (object), []any (array)
}

type object []member

func decodeOrdered(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch d := t.(type) {
	case json.Delim:
		switch d {
		case '{':
			var o object
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				o = append(o, member{fmt.Sprint(kt), v})
			}
			_, err := dec.Token()
			return o, err
		case '[':
			var a []any
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token()
			return a, err
		}
		return nil, fmt.Errorf("unexpected %v", d)
	default:
		return t, nil
	}
}

// droppedJSONKey reports members that change with data and statistics.
func droppedJSONKey(k string) bool {
	switch k {
	case "select_id", "rows", "filtered", "cost_info", "cost", "loops", "buffer_size", "key_length",
		"rows_examined_per_scan", "rows_produced_per_join", "data_read_per_join", "query_cost",
		"read_cost", "eval_cost", "prefix_cost", "sort_cost":
		return true
	}
	return strings.HasPrefix(k, "r_") || strings.HasSuffix(k, "_cost") || strings.HasPrefix(k, "estimated_")
}

func addJSONMembers(n *Node, v any) {
	switch x := v.(type) {
	case object:
		for _, m := range x {
			if droppedJSONKey(m.key) {
				continue
			}
			switch mv := m.val.(type) {
			case object:
				c := &Node{Name: m.key, ID: -1, Fragment: -1}
				addJSONMembers(c, mv)
				n.Children = append(n.Children, c)
			case []any:
				if scalars, ok := scalarList(mv); ok {
					n.Attrs = append(n.Attrs, m.key+": "+scalars)
					continue
				}
				c := &Node{Name: m.key, ID: -1, Fragment: -1}
				for _, e := range mv {
					addJSONMembers(c, e)
				}
				n.Children = append(n.Children, c)
			default:
				n.Attrs = append(n.Attrs, m.key+": "+scalarText(mv))
			}
		}
	case []any:
		for _, e := range x {
			addJSONMembers(n, e)
		}
	default:
		n.Attrs = append(n.Attrs, scalarText(x))
	}
}

func scalarList(a []any) (string, bool) {
	parts := make([]string, 0, len(a))
	for _, e := range a {
		switch e.(type) {
		case object, []any:
			return "", false
		}
		parts = append(parts, scalarText(e))
	}
	sort.Strings(parts) // possible_keys and the like are sets
	return strings.Join(parts, ", "), true
}

func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}
