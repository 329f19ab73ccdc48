package harness

import (
	"fmt"
	"strings"

	"github.com/srctl/srctl/analyze/fingerprint"
)

// readOnlyStarts are the statement kinds compare-baseline runs without --allow-writes.
var readOnlyStarts = map[string]bool{"select": true, "with": true, "explain": true, "set": true, "show": true,
	"desc": true, "describe": true}

var writeWords = map[string]bool{"insert": true, "update": true, "delete": true, "replace": true, "merge": true,
	"truncate": true, "drop": true, "alter": true, "create": true}

// CheckReadOnly refuses SQL that could change data or server state: any statement whose first
// keyword is not SELECT, WITH, EXPLAIN, SET, SHOW or DESCRIBE, SET GLOBAL/PERSIST, SELECT ...
// INTO, locking reads, and MySQL's executable comments (/*! ... */), which run whatever they
// hold. The error names the statement and the flag that allows it.
func CheckReadOnly(sql string) error {
	if strings.Contains(sql, "/*!") {
		return fmt.Errorf("refusing %q: executable comments (/*! ... */) may write; pass --allow-writes to run it", clip(sql))
	}
	for _, st := range fingerprint.Statements(sql) {
		toks := fingerprint.Tokens(st)
		first := ""
		for _, t := range toks {
			if t.Text != "(" {
				first = t.Text
				break
			}
		}
		if !readOnlyStarts[first] {
			return fmt.Errorf("refusing %q: %s statements are not read-only; pass --allow-writes to run them", clip(st), strings.ToUpper(first))
		}
		depth := 0
		for i, t := range toks {
			switch t.Text {
			case "(":
				depth++
			case ")":
				depth--
			}
			if !t.Word {
				continue
			}
			switch {
			case depth == 0 && writeWords[t.Text] && first != "set" && !(t.Text == "update" && i > 0 && toks[i-1].Text == "for"):
				// WITH ... DELETE, EXPLAIN ANALYZE UPDATE: the statement writes whatever it starts with.
				return fmt.Errorf("refusing %q: it contains %s; pass --allow-writes to run it", clip(st), strings.ToUpper(t.Text))
			case first == "set" && (t.Text == "global" || t.Text == "persist" || t.Text == "persist_only"):
				return fmt.Errorf("refusing %q: it changes server-wide settings; pass --allow-writes to run it", clip(st))
			case t.Text == "into" && first != "set" && !(i > 0 && toks[i-1].Text == "insert"):
				return fmt.Errorf("refusing %q: SELECT ... INTO writes; pass --allow-writes to run it", clip(st))
			case t.Text == "update" && i > 0 && toks[i-1].Text == "for", t.Text == "share" && i > 1 && toks[i-1].Text == "in":
				return fmt.Errorf("refusing %q: locking reads hold locks on the server; pass --allow-writes to run it", clip(st))
			}
		}
	}
	return nil
}

// HasTopLevelOrderBy reports whether the (last) statement orders its final result: ORDER BY
// outside any parenthesis, so window functions and subqueries do not count.
func HasTopLevelOrderBy(sql string) bool {
	sts := fingerprint.Statements(sql)
	if len(sts) == 0 {
		return false
	}
	depth := 0
	toks := fingerprint.Tokens(sts[len(sts)-1])
	for i, t := range toks {
		switch t.Text {
		case "(":
			depth++
		case ")":
			depth--
		case "order":
			if depth == 0 && t.Word && i+1 < len(toks) && toks[i+1].Text == "by" {
				return true
			}
		}
	}
	return false
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
