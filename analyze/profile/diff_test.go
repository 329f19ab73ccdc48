package profile

import (
	"strings"
	"testing"
)

func TestCompareAlignsAndReads(t *testing.T) {
	d := Compare(Parse(readFixture(t, "diff-a.txt")), Parse(readFixture(t, "diff-b.txt")))
	if len(d.Operators) != 5 || len(d.Appeared) != 1 || len(d.Disappeared) != 1 {
		t.Fatalf("matched %d, appeared %v, disappeared %v", len(d.Operators), d.Appeared, d.Disappeared)
	}
	if d.Appeared[0].Name != "LOCAL_EXCHANGE_SOURCE" || d.Disappeared[0].Name != "EXCHANGE_SOURCE" || d.Disappeared[0].PlanNodeID != 3 {
		t.Fatalf("appeared %v disappeared %v", d.Appeared, d.Disappeared)
	}
	top := d.Operators[0]
	want := "HASH_JOIN_BUILD plan node 4: time x120 (20ms → 2.4s), build rows x120 (1218 → 146.2K), memory x120 (283.00 KiB → 33.16 MiB), now the hot spot"
	if top.Reading != want || top.MatchedBy != "plan_node_id" {
		t.Fatalf("top reading:\n got %q\nwant %q", top.Reading, want)
	}
	for _, o := range d.Operators {
		if o.A.Name == "HASH_JOIN_PROBE" && !strings.HasSuffix(o.Reading, "about the same") {
			t.Errorf("unchanged probe read as %q", o.Reading)
		}
	}
	var cpu MetricDelta
	for _, m := range d.Metrics {
		if m.Name == "cpu" {
			cpu = m
		}
	}
	if cpu.A != 1100e6 || cpu.B != 3900e6 || cpu.Delta != 2800e6 || cpu.Ratio < 3.54 || cpu.Ratio > 3.55 {
		t.Fatalf("cpu delta %+v", cpu)
	}
}

func TestCompareFallsBackToPositionWhenIDsAreRenumbered(t *testing.T) {
	a := readFixture(t, "diff-a.txt")
	b := strings.NewReplacer("plan_node_id=4)", "plan_node_id=14)", "plan_node_id=0)", "plan_node_id=10)").Replace(a)
	d := Compare(Parse(a), Parse(b))
	if len(d.Appeared) != 0 || len(d.Disappeared) != 0 {
		t.Fatalf("renumbered plan: appeared %v disappeared %v", d.Appeared, d.Disappeared)
	}
	byPosition := 0
	for _, o := range d.Operators {
		if o.MatchedBy == "position" {
			byPosition++
			if o.A.Name != o.B.Name || o.B.PlanNodeID != o.A.PlanNodeID+10 {
				t.Errorf("misaligned: %+v", o)
			}
		}
	}
	if byPosition != 3 {
		t.Fatalf("%d operators aligned by position, want 3", byPosition)
	}
}

func TestCompareIdenticalProfilesReadsNoChange(t *testing.T) {
	text := readFixture(t, "diff-a.txt")
	d := Compare(Parse(text), Parse(text))
	for _, o := range d.Operators {
		if !strings.HasSuffix(o.Reading, "about the same") {
			t.Errorf("identical profiles: %q", o.Reading)
		}
	}
	for _, m := range d.Metrics {
		if m.Delta != 0 || m.Ratio != 1 {
			t.Errorf("identical profiles: %+v", m)
		}
	}
}

func TestMedianHeadline(t *testing.T) {
	hs := []Headline{{CPUNS: 30, ScanBytes: 5, State: "c"}, {CPUNS: 10, ScanBytes: 7, State: "a"}, {CPUNS: 20, ScanBytes: 6, State: "b"}}
	m := MedianHeadline(hs)
	if m.CPUNS != 20 || m.ScanBytes != 6 || m.State != "b" {
		t.Errorf("median %+v", m)
	}
	if m := MedianHeadline(hs[:2]); m.CPUNS != 10 {
		t.Errorf("even count takes the lower middle: %d", m.CPUNS)
	}
	d := CompareHeadlines(Headline{CPUNS: 10}, Headline{CPUNS: 15})
	if d[1].Name != "cpu" || d[1].Delta != 5 || d[1].Ratio != 1.5 {
		t.Errorf("cpu delta %+v", d[1])
	}
}

// TestCompareOutOfRangeValues: values too large for an int64 (99999999h, 1e30 GB) are not
// read as negative amounts, so neither the headline nor an operator's reading shows a negative
// duration or a negative ratio.
func TestCompareOutOfRangeValues(t *testing.T) {
	a := readFixture(t, "diff-a.txt")
	b := strings.NewReplacer("Total: 1s500ms", "Total: 99999999h", "OperatorTotalTime: 20ms", "OperatorTotalTime: 99999999h",
		"64.000 MB", "1000000000000000000000000000000 GB").Replace(a)
	d := Compare(Parse(a), Parse(b))
	for _, m := range d.Metrics {
		if m.B < 0 || m.Ratio < 0 {
			t.Errorf("metric %s: %+v", m.Name, m)
		}
	}
	for _, o := range d.Operators {
		if strings.Contains(o.Reading, "x-") || strings.Contains(o.Reading, "÷-") || strings.Contains(o.Reading, "→ -") {
			t.Errorf("reading %q", o.Reading)
		}
	}
}
