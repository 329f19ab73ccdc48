package harness

import (
	"fmt"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/analyze/sqlclass"
)

// CheckReadOnly refuses SQL that compare-baseline must not run without --allow-writes. It is an
// allowlist, shared with srctl shadow's mirror (package sqlclass): every statement must be a
// SELECT, WITH ... SELECT, EXPLAIN, SHOW, DESCRIBE or a SET of session variables to literal
// values, under every way MySQL, MariaDB or StarRocks may lex the text. The error names the
// statement, what it does and the flag that allows it.
func CheckReadOnly(sql string) error {
	c := sqlclass.Classify(sql)
	if c.ReadOnly {
		return nil
	}
	return fmt.Errorf("refusing %q: %s; pass --allow-writes to run it", c.Statement, c.Why)
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
