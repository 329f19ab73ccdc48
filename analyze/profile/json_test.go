package profile

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// gsonLike renders a parsed text profile the way the FE's JSON formatter prints the same
// RuntimeProfile: one object per node keyed by its name, entries as string properties in text
// form, nested entries flattened after their parent, __MIN_OF_/__MAX_OF_ after the entry they
// qualify, children as nested objects. It lets the tests hold the JSON reader to the text parser on
// every fixture and real sample.
func gsonLike(t testing.TB, n *Node) string {
	var b strings.Builder
	b.WriteString("{\n")
	writeGsonNode(t, &b, n, "  ", true)
	b.WriteString("\n}")
	return b.String()
}

func writeGsonNode(t testing.TB, b *strings.Builder, n *Node, ind string, last bool) {
	name := n.Name
	if n.Kind == NodeOperator {
		name = n.Name + " (plan_node_id=" + strconv.Itoa(n.PlanNodeID) + ")"
	}
	var props [][2]string
	props = append(props, [2]string{"Active", "1s"}, [2]string{"non-child", "0.00%"}) // decorations the reader must ignore
	var flat func(es []*Entry)
	flat = func(es []*Entry) {
		for _, e := range es {
			key := e.Key
			if e.Dup >= 0 {
				key += "__DUP(" + strconv.Itoa(e.Dup) + ")"
			}
			if n.Kind == NodePlanner {
				props = append(props, [2]string{"-- " + key + "[1]", e.Value.Raw})
			} else {
				props = append(props, [2]string{key, e.Value.Raw})
			}
			if e.Max != nil {
				props = append(props, [2]string{"__MAX_OF_" + key, e.Max.Raw})
			}
			if e.Min != nil {
				props = append(props, [2]string{"__MIN_OF_" + key, e.Min.Raw})
			}
			flat(e.Children)
		}
	}
	flat(n.Entries)
	b.WriteString(ind + quote(t, name) + ": {")
	for i, kv := range props {
		b.WriteString("\n" + ind + "  " + quote(t, kv[0]) + ": " + quote(t, kv[1]))
		if i < len(props)-1 || len(n.Children) > 0 {
			b.WriteString(",")
		}
	}
	for i, c := range n.Children {
		b.WriteString("\n")
		writeGsonNode(t, b, c, ind+"  ", i == len(n.Children)-1)
	}
	b.WriteString("\n" + ind + "}")
	if !last {
		b.WriteString(",")
	}
}

func quote(t testing.TB, s string) string {
	q, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(q)
}

// TestJSONProfileMatchesText parses each text profile, prints it as the JSON formatter would and
// checks that the JSON reader finds the same headline metrics, operators and state.
func TestJSONProfileMatchesText(t *testing.T) {
	texts := sampleProfiles(t)
	texts["hand-3x.txt"], texts["diff-b.txt"] = readFixture(t, "hand-3x.txt"), readFixture(t, "diff-b.txt")
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			tp := Parse(text)
			js := gsonLike(t, tp.Root)
			if !json.Valid([]byte(js)) {
				t.Fatalf("test printer made invalid JSON")
			}
			jp := Parse(js)
			if len(jp.Warnings) != 0 {
				t.Fatalf("warnings on JSON form: %v", jp.Warnings[:min(3, len(jp.Warnings))])
			}
			if got, want := jp.Headlines(), tp.Headlines(); !reflect.DeepEqual(got, want) {
				t.Errorf("headlines differ:\n json %+v\n text %+v", got, want)
			}
			if got, want := ScanHeadlines(js), tp.Headlines(); !reflect.DeepEqual(got, want) {
				t.Errorf("ScanHeadlines on JSON differs:\n json %+v\n text %+v", got, want)
			}
			if got, want := len(jp.Operators()), len(tp.Operators()); got != want || got == 0 {
				t.Errorf("operators: json %d, text %d", got, want)
			}
			if jp.SQL() != tp.SQL() || jp.State() != tp.State() || jp.QueryID() != tp.QueryID() {
				t.Errorf("summary differs: %q/%q/%q vs %q/%q/%q", jp.QueryID(), jp.State(), truncate(jp.SQL(), 40), tp.QueryID(), tp.State(), truncate(tp.SQL(), 40))
			}
		})
	}
}

// TestJSONProfileHandWritten reads a JSON profile written by hand after the formatter's rules,
// with values read off it by eye.
func TestJSONProfileHandWritten(t *testing.T) {
	p := Parse(readFixture(t, "hand-json.json"))
	if len(p.Warnings) != 0 {
		t.Fatalf("warnings: %v", p.Warnings)
	}
	h := p.Headlines()
	if p.QueryID() != "6c8f0b4e-1d2a-11ef-9d3c-00163e0e1a2b" || h.State != StateFinished {
		t.Errorf("id %q state %q", p.QueryID(), h.State)
	}
	if p.SQL() != "SELECT c, count(*)\nFROM t\nGROUP BY c" {
		t.Errorf("sql %q", p.SQL())
	}
	checks := map[string][2]int64{
		"total":     {h.TotalNS, 1_054_000_000},
		"cpu":       {h.CPUNS, 2*60e9 + 3e9},
		"peak mem":  {h.PeakMemoryPerNodeBytes, 12_582_912},
		"op total":  {h.OperatorTotalNS, 900e6 + 12_321},
		"scan rows": {h.ScanRawRows, 123_456},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %d, want %d", name, c[0], c[1])
		}
	}
	scan := p.Operators()[1]
	e := scan.Metric("ScanTime")
	if e == nil || e.Max == nil || e.Min == nil {
		t.Fatalf("ScanTime with min/max not found: %+v", e)
	}
	if ns, _ := e.Max.NS(); ns != 850e6 {
		t.Errorf("max ScanTime %d", ns)
	}
	if len(h.TopOperators) != 2 || h.TopOperators[0].Name != "OLAP_SCAN" || h.TopOperators[0].PlanNodeID != 0 {
		t.Errorf("top operators %+v", h.TopOperators)
	}
}

func TestJSONProfileBrokenInputWarns(t *testing.T) {
	for _, in := range []string{"{", `{"Query": {"Summary": [1,2]}}`, `{"Query": {}} trailing`, `{"a": 1, "b": {"c": "12xyz"}}`} {
		if p := Parse(in); len(p.Warnings) == 0 {
			t.Errorf("%q: no warning", in)
		}
	}
}

func FuzzParseJSON(f *testing.F) {
	f.Add(readFixture(f, "hand-json.json"))
	f.Add(`{"Query":{"Summary":{"Total":"1s"}}}`)
	f.Fuzz(func(t *testing.T, text string) {
		p := Parse("{" + text)
		_ = p.Headlines()
		_ = ScanHeadlines("{" + text)
	})
}

// BenchmarkParseJSONSample3_4_4 reads the 476 KB sample in its JSON form; compare with
// BenchmarkParseSample3_4_4 (the text form) in the same run.
func BenchmarkParseJSONSample3_4_4(b *testing.B) {
	text, ok := readSample(b, "profile-3.4.4-insert-overwrite-spill-join.txt")
	if !ok {
		b.Skip("shared samples not present")
	}
	js := gsonLike(b, Parse(text).Root)
	b.SetBytes(int64(len(js)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Parse(js).Headlines()
	}
}
