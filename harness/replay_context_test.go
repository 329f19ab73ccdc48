package harness

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestTablesOfHostileNames: table names come from logged SQL, a client's text; they reach the
// servers only quoted (SHOW CREATE TABLE, information_schema), so a name cannot end the
// identifier or the string and add SQL of its own.
func TestTablesOfHostileNames(t *testing.T) {
	got := TablesOf([]ReplayQuery{
		{SQL: "SELECT * FROM `a``b` JOIN shop.`x'; DROP TABLE t; --` ON 1 /*route='/r'*/"},
		{SQL: "SELECT 1 FROM (SELECT 2) s; SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id"},
	})
	want := []string{"a`b", "customers", "orders", "shop.x'; DROP TABLE t; --"}
	if !slices.Equal(got, want) {
		t.Fatalf("TablesOf = %q, want %q", got, want)
	}
	if q := quoteName("a`b"); q != "`a``b`" {
		t.Errorf("quoteName(a`b) = %s", q)
	}
	if q := quoteName("shop.x'; DROP TABLE t; --"); q != "`shop`.`x'; DROP TABLE t; --`" {
		t.Errorf("quoteName = %s", q)
	}
	if q := sqlQuote(`x\'; DROP`); q != `'x\\''; DROP'` {
		t.Errorf("sqlQuote = %s", q)
	}
}

// TestSelectionMemoryIsBounded: logged SQL is a client's; unique giant texts are not all kept.
func TestSelectionMemoryIsBounded(t *testing.T) {
	byEP := map[string]*candidateSet{}
	var st SelectStats
	big := strings.Repeat("x", 200<<10)
	for i := range 2000 {
		consider(byEP, &st, nil, nil, candidate{ts: int64(i), sql: fmt.Sprintf("SELECT '%d%s' /*route='/r'*/", i, big)})
	}
	consider(byEP, &st, nil, nil, candidate{sql: "SELECT '" + strings.Repeat("y", 300<<10) + "' /*route='/r'*/"})
	set := byEP["/r"]
	if set.bytes > 2*maxCandidateBytes || st.TooLong != 1 || st.Candidates != 2001 {
		t.Errorf("kept %d texts, %d MiB; too long %d of %d", len(set.texts), set.bytes>>20, st.TooLong, st.Candidates)
	}
	set.prune()
	if set.bytes > maxCandidateBytes || len(set.texts) == 0 {
		t.Errorf("after prune: %d texts, %d MiB", len(set.texts), set.bytes>>20)
	}
}
