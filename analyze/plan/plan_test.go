package plan

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/srctl/srctl/internal/testenv"
)

// samplesDir holds real StarRocks EXPLAIN output beside the repository (never copied into it).
var samplesDir = filepath.Join("..", "..", "..", "shared", "starrocks", "samples")

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fixture(t testing.TB, name string) string { return readFile(t, filepath.Join("testdata", name)) }

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if testenv.Update() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readFile(t, path)
	if got != want {
		t.Errorf("%s differs from golden (go test -update to accept):\n%s", name, UnifiedDiff("golden", "got", want, got, 2))
	}
}

func TestParseTextTree(t *testing.T) {
	p := Parse(fixture(t, "join3-a.txt"))
	if len(p.Warnings) != 0 {
		t.Fatalf("warnings: %v", p.Warnings)
	}
	if p.Format != FormatText || len(p.Fragments) != 5 {
		t.Fatalf("format %s, %d fragments", p.Format, len(p.Fragments))
	}
	// Fragment 2: 8:AGGREGATE <- 7:Project <- 6:HASH JOIN(4:HASH JOIN(0:OlapScanNode, 3:EXCHANGE), 5:EXCHANGE)
	f2 := p.Fragments[2]
	if f2.ExchangeID != 9 || f2.SinkPartition != "HASH_PARTITIONED" {
		t.Errorf("fragment 2 sink: exchange %d partition %q", f2.ExchangeID, f2.SinkPartition)
	}
	var shape []string
	f2.Root.Walk(func(n *Node, depth int) {
		if n.Fragment == 2 {
			shape = append(shape, strings.Repeat(".", depth)+strconv.Itoa(n.ID)+":"+n.Name)
		}
	})
	want := []string{"8:AGGREGATE", ".7:Project", "..6:HASH JOIN", "...4:HASH JOIN", "....0:OlapScanNode", "....3:EXCHANGE", "...5:EXCHANGE"}
	if !reflect.DeepEqual(shape, want) {
		t.Errorf("shape %v\nwant  %v", shape, want)
	}
	join := f2.Root.Children[0].Children[0]
	if v, _ := join.Attr("join op"); v != "INNER JOIN (BROADCAST)" {
		t.Errorf("join op %q", v)
	}
	scan := join.Children[0].Children[0]
	if v, _ := scan.Attr("TABLE"); v != "store_sales" {
		t.Errorf("scan table %q (attrs %q)", v, scan.Attrs)
	}
	if v, _ := scan.Attr("partitions"); v != "12/365" {
		t.Errorf("partitions %q", v)
	}
	// Exchanges carry their sending fragment: the whole plan is one tree from fragment 0.
	var tables []string
	p.Root.Walk(func(n *Node, _ int) {
		if v, ok := n.Attr("TABLE"); ok {
			tables = append(tables, v)
		}
	})
	if !reflect.DeepEqual(tables, []string{"store_sales", "date_dim", "store"}) {
		t.Errorf("tables reachable from the root: %v", tables)
	}
}

func TestSamePlanWhenOnlyNumbersChange(t *testing.T) {
	a, b := Parse(fixture(t, "join3-a.txt")), Parse(fixture(t, "join3-a-restats.txt"))
	d := Compare(a, b)
	if !d.Same || len(d.Changes) != 0 || d.Unified != "" {
		t.Fatalf("expected same plan, got %+v", d)
	}
	if fixture(t, "join3-a.txt") == fixture(t, "join3-a-restats.txt") {
		t.Fatal("fixtures are identical: the test proves nothing")
	}
}

func TestCompareSaysWhatChanged(t *testing.T) {
	d := Compare(Parse(fixture(t, "join3-a.txt")), Parse(fixture(t, "join3-b.txt")))
	if d.Same {
		t.Fatal("different plans reported as same")
	}
	kinds := map[string]bool{}
	var words strings.Builder
	for _, c := range d.Changes {
		kinds[c.Kind] = true
		words.WriteString(c.Kind + ": " + c.Text + "\n")
	}
	for _, k := range []string{ChangeScanPredicate, ChangeScanPruning, ChangeJoinOrder, ChangeJoinDistribution, ChangeExchange} {
		if !kinds[k] {
			t.Errorf("no %s change in:\n%s", k, words.String())
		}
	}
	golden(t, "join3-a-vs-b.changes", words.String())
	golden(t, "join3-a-vs-b.diff", d.Unified)
}

func TestNormalizedGolden(t *testing.T) {
	golden(t, "join3-a.normalized", Parse(fixture(t, "join3-a.txt")).Normalized())
}

func TestLogicalMVRewrite(t *testing.T) {
	a, b := Parse(fixture(t, "logical-base.txt")), Parse(fixture(t, "logical-mv.txt"))
	for _, p := range []*Plan{a, b} {
		if p.Format != FormatLogical || len(p.Warnings) != 0 {
			t.Fatalf("format %s warnings %v", p.Format, p.Warnings)
		}
	}
	d := Compare(a, b)
	if len(d.Changes) == 0 || d.Changes[0].Kind != ChangeMVRewrite || !strings.Contains(d.Changes[0].Text, "lineitem_agg_mv") {
		t.Fatalf("changes %+v", d.Changes)
	}
	back := Compare(b, a)
	if back.Changes[0].Kind != ChangeMVRewrite || !strings.Contains(back.Changes[0].Text, "lost") {
		t.Fatalf("reverse changes %+v", back.Changes)
	}
}

func TestMySQLClientTableOutput(t *testing.T) {
	raw := fixture(t, "join3-a.txt")
	var boxed strings.Builder
	boxed.WriteString("+------------------------------------------+\n| Explain String                           |\n+------------------------------------------+\n")
	for _, l := range strings.Split(strings.TrimRight(raw, "\n"), "\n") {
		boxed.WriteString("| " + l + strings.Repeat(" ", max(0, 40-len(l))) + " |\n")
	}
	boxed.WriteString("+------------------------------------------+\n84 rows in set (0.01 sec)\n")
	tsv := "Explain String\n" + raw
	for name, text := range map[string]string{"boxed": boxed.String(), "tsv": tsv} {
		p := Parse(text)
		if len(p.Warnings) != 0 {
			t.Fatalf("%s: warnings %v", name, p.Warnings)
		}
		if !Compare(p, Parse(raw)).Same {
			t.Errorf("%s: not the same plan as the raw text:\n%s", name, Compare(Parse(raw), p).Unified)
		}
	}
}

// TestSampleCorpus parses the real EXPLAIN samples in ../shared/starrocks/samples and checks
// what can be read off them by eye.
func TestSampleCorpus(t *testing.T) {
	if _, err := os.Stat(samplesDir); err != nil {
		if os.Getenv("SRCTL_TEST_DISALLOW_SKIP") == "1" {
			t.Fatalf("sample corpus %s missing and SRCTL_TEST_DISALLOW_SKIP=1", samplesDir)
		}
		t.Skipf("sample corpus %s not present: skipping", samplesDir)
	}
	names, _ := filepath.Glob(filepath.Join(samplesDir, "explain-*.txt"))
	if len(names) == 0 {
		t.Fatal("no explain samples")
	}
	plans := map[string]*Plan{}
	for _, n := range names {
		p := Parse(readFile(t, n))
		if len(p.Warnings) != 0 {
			t.Errorf("%s: warnings %v", filepath.Base(n), p.Warnings)
		}
		plans[filepath.Base(n)] = p
	}
	plain, verbose, logical := plans["explain-tpcds-docs.raw.txt"], plans["explain-verbose-tpcds-docs.raw.txt"], plans["explain-logical-tpcds-docs.raw.txt"]
	if plain == nil || verbose == nil || logical == nil {
		t.Fatalf("expected samples missing: %v", names)
	}
	if plain.Format != FormatText || verbose.Format != FormatVerbose || logical.Format != FormatLogical {
		t.Errorf("formats %s %s %s", plain.Format, verbose.Format, logical.Format)
	}
	if len(plain.Fragments) != 4 || len(verbose.Fragments) != 4 || verbose.Fragments[0].Label != "F04" {
		t.Errorf("fragments: plain %d verbose %d", len(plain.Fragments), len(verbose.Fragments))
	}
	if len(verbose.Preamble) != 1 || verbose.Preamble[0] != "RESOURCE GROUP: default_wg" {
		t.Errorf("verbose preamble %q", verbose.Preamble)
	}
	// The three levels print one plan: its structure reads the same from each.
	for name, p := range map[string]*Plan{"plain": plain, "verbose": verbose, "logical": logical} {
		s := p.Structure()
		if s.JoinTree != "(store_returns ⋈ date_dim)" {
			t.Errorf("%s: join tree %q", name, s.JoinTree)
		}
		if len(s.Joins) != 1 || s.Joins[0].Distribution != "BROADCAST" || s.Joins[0].Op != "INNER JOIN" || s.Joins[0].On != "d_date_sk = sr_returned_date_sk" {
			t.Errorf("%s: joins %+v", name, s.Joins)
		}
		if len(s.Scans) != 2 || s.Scans[1].Table != "date_dim" || !strings.Contains(s.Scans[1].Predicates, "d_year") || s.Scans[0].Partitions != "all" {
			t.Errorf("%s: scans %+v", name, s.Scans)
		}
		if len(s.Aggregations) != 2 {
			t.Errorf("%s: aggregations %+v", name, s.Aggregations)
		}
		if len(s.Exchanges) != 3-btoi(name == "logical") {
			t.Errorf("%s: exchanges %+v", name, s.Exchanges)
		}
	}
	if got := verbose.Fragments[1].Root.Children[0]; got.Detail != "SHUFFLE" {
		t.Errorf("verbose exchange 7 detail %q", got.Detail)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestOddInputsWarnButNeverFail(t *testing.T) {
	for _, in := range []string{"", "hello", "PLAN FRAGMENT x\n", "PLAN FRAGMENT 0\n  0:OlapScanNode\n     TABLE: t\n\n  stray line\n", "{", "{\"query_block\": }"} {
		p := Parse(in)
		if len(p.Warnings) == 0 {
			t.Errorf("%q: no warning", in)
		}
		_ = p.Normalized()
		_ = p.Structure()
	}
}

func FuzzParse(f *testing.F) {
	f.Add(fixture(f, "join3-a.txt"))
	f.Add(fixture(f, "logical-mv.txt"))
	f.Add(fixture(f, "mariadb-join.json"))
	f.Add("PLAN FRAGMENT 0\n  1:HASH JOIN\n  |----2:EXCHANGE\n  |       x\n  0:SCAN\n")
	f.Fuzz(func(t *testing.T, text string) {
		p := Parse(text)
		n := p.Normalized()
		_ = p.Structure()
		if d := Compare(p, p); !d.Same {
			t.Fatalf("a plan differs from itself: %s", n)
		}
	})
}

// TestAggregationMovedAndOperatorsGained compares two LOGICAL plans of one query: in B the
// optimizer pushed the local aggregation below the join and added a TOP-N.
func TestAggregationMovedAndOperatorsGained(t *testing.T) {
	a := `- Output => [1:k, 9:sum]
    - AGGREGATE(GLOBAL) [1:k]
            9:sum := sum(9:sum)
        - AGGREGATE(LOCAL) [1:k]
                9:sum := sum(2:v)
            - HASH/INNER JOIN [1:k = 5:k] => [1:k, 2:v]
                - SCAN [facts] => [1:k, 2:v]
                - EXCHANGE(BROADCAST)
                    - SCAN [dims] => [5:k]
`
	b := `- Output => [1:k, 9:sum]
    - TOP-N (order by [[1:k ASC NULLS FIRST]])
        - AGGREGATE(GLOBAL) [1:k]
                9:sum := sum(9:sum)
            - HASH/INNER JOIN [1:k = 5:k] => [1:k, 9:sum]
                - AGGREGATE(LOCAL) [1:k]
                        9:sum := sum(2:v)
                    - SCAN [facts] => [1:k, 2:v]
                - EXCHANGE(BROADCAST)
                    - SCAN [dims] => [5:k]
`
	d := Compare(Parse(a), Parse(b))
	if !hasChange(d, ChangeAggregation, "aggregation (LOCAL, group by k) moved: over facts, was over dims, facts") {
		t.Errorf("aggregation move not reported: %+v", d.Changes)
	}
	if !hasChange(d, ChangeNode, "TOP-N added") {
		t.Errorf("TOP-N not reported: %+v", d.Changes)
	}
	if hasChange(d, ChangeJoinOrder, "") || hasChange(d, ChangeJoinDistribution, "") {
		t.Errorf("join reported as changed: %+v", d.Changes)
	}
}
