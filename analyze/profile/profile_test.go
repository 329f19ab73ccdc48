package profile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// samplesDir holds StarRocks' real profiles beside the repository (never copied into it).
var samplesDir = filepath.Join("..", "..", "..", "shared", "starrocks", "samples")

// readSample returns a real sample's text, or false when the shared samples are absent.
func readSample(tb testing.TB, name string) (string, bool) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		return "", false
	}
	return string(b), true
}

// sampleProfiles returns the real sample profiles by file name: none when the shared samples are
// absent, a failure when they are absent under SRCTL_TEST_DISALLOW_SKIP=1.
func sampleProfiles(t testing.TB) map[string]string {
	t.Helper()
	texts := map[string]string{}
	names, _ := filepath.Glob(filepath.Join(samplesDir, "profile-*.txt"))
	if len(names) == 0 && os.Getenv("SRCTL_TEST_DISALLOW_SKIP") == "1" {
		t.Fatalf("sample corpus %s missing and SRCTL_TEST_DISALLOW_SKIP=1", samplesDir)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		texts[filepath.Base(n)] = string(b)
	}
	return texts
}

func TestParseHandWrittenProfile(t *testing.T) {
	p := Parse(readFixture(t, "hand-3x.txt"))
	if len(p.Warnings) != 0 {
		t.Fatalf("warnings: %v", p.Warnings)
	}
	if p.QueryID() != "11111111-2222-3333-4444-555555555555" || p.State() != StateFinished {
		t.Fatalf("summary: %q %q", p.QueryID(), p.State())
	}
	wantSQL := "SELECT o.id, SUM(l.amount)\nFROM orders o\n  JOIN lines l ON l.order_id = o.id\n\nWHERE o.note = 'a: b'\nGROUP BY o.id /*route='%2Fapi%2Forders'*/"
	if p.SQL() != wantSQL {
		t.Fatalf("multi-line SQL:\n%q\nwant\n%q", p.SQL(), wantSQL)
	}
	if e := p.Summary.Get("Default Db"); e == nil || e.Value.Kind != Blank {
		t.Fatalf("blank value: %+v", e)
	}
	if !strings.HasPrefix(p.Info("NonDefaultSessionVariables"), `{"enable_profile"`) {
		t.Fatal("JSON info string")
	}
	if e := p.Planner.Find("Optimizer"); e == nil || e.Value.Int != 9e6 {
		t.Fatalf("nested planner timer: %+v", e)
	}
	if tot := p.Planner.Get("Total"); tot == nil || len(tot.Children) != 2 {
		t.Fatalf("planner nesting: %+v", tot)
	}
	ops := p.Operators()
	if len(ops) != 3 || ops[0].Name != "RESULT_SINK" || ops[0].PlanNodeID != -1 || ops[2].Name != "OLAP_SCAN" || ops[2].PlanNodeID != 0 {
		t.Fatalf("operators: %+v", ops)
	}
	probe := ops[1]
	ott := probe.Metric("OperatorTotalTime")
	if ott.Value.Int != 300e6 || ott.Max == nil || ott.Max.Int != 310e6 || ott.Min.Int != 290e6 || len(ott.Children) != 0 {
		t.Fatalf("min/max: %+v", ott)
	}
	var dups []int
	for _, e := range probe.Children[1].Entries {
		if e.Key == "ShuffleNum" {
			dups = append(dups, e.Dup)
		}
	}
	if len(dups) != 2 || dups[0] != 0 || dups[1] != 1 {
		t.Fatalf("__DUP keys: %v", dups)
	}
	scan := ops[2]
	if scan.Metric("Predicates").Value.Raw != "1: id > 5, 2: note = 'x: y'" {
		t.Fatalf("value with colons: %q", scan.Metric("Predicates").Value.Raw)
	}
	if g := scan.Metric("IOStatistics"); g == nil || g.Value.Kind != Blank || len(g.Children) != 2 {
		t.Fatalf("counter group: %+v", g)
	}
	if c := scan.Metric("ColumnReadTime"); c == nil || c.Value.Int != 1500e6 {
		t.Fatalf("child counter: %+v", c)
	}
	if f := p.Root.Children[2].Children[0]; f.Kind != NodeFragment || f.ID != 0 || f.Get("QueryMemoryLimit").Value.Unset != true {
		t.Fatalf("fragment: %+v", f)
	}

	h := p.Headlines()
	want := Headline{State: "Finished", TotalNS: 1054e6, PlannerNS: 12e6, CPUNS: 1200e6, ExecutionWallNS: 1050e6,
		PeakMemoryPerNodeBytes: 12.5 * (1 << 20), SumMemoryBytes: 900 << 20, ScanNS: 820115e3, OperatorNS: 2005e6,
		NetworkNS: 12321, ResultDeliverNS: 736, SpillBytes: 1536, ScanOperators: 1, ScanBytes: sz(4.523, 1<<30),
		ScanRawRows: 1293970730, ScanRows: 12321, ScanLocalBytes: 1 << 30, ScanRemoteBytes: 2 << 30,
		OperatorTotalNS: 5499e6 + 300e6 + 5e3}
	got := h
	got.TopOperators = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("headlines\n got %+v\nwant %+v", got, want)
	}
	if len(h.TopOperators) != 3 || h.TopOperators[0].Name != "OLAP_SCAN" || h.TopOperators[0].PlanNodeID != 0 || h.TopOperators[1].PlanNodeID != 4 {
		t.Fatalf("top operators: %+v", h.TopOperators)
	}
}

func TestParseOddInputsWarnButNeverFail(t *testing.T) {
	p := Parse("Query:\n  Summary:\n     - Query State: Error\n     - Total: 12.3 XB\nnot a line\n")
	if p.State() != StateError || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0].Msg, "12.3 XB") {
		t.Fatalf("state %q warnings %v", p.State(), p.Warnings)
	}
	if p := Parse(""); len(p.Warnings) != 1 {
		t.Fatalf("empty: %v", p.Warnings)
	}
	if p := Parse("- orphan: 1\n"); len(p.Warnings) == 0 {
		t.Fatal("entry before any node not reported")
	}
	if p := Parse(`{"Query":{}}`); len(p.Warnings) != 0 || p.Root == nil || p.Root.Kind != NodeQuery {
		t.Fatalf("empty JSON profile: root %+v warnings %v", p.Root, p.Warnings)
	}
	_ = Parse("Query:\n").Headlines() // no sections: zero headlines, no panic
}

// TestSampleCorpus parses the real profiles in ../shared/starrocks/samples (not copied into the
// repository) and checks values read off the texts by eye.
func TestSampleCorpus(t *testing.T) {
	dir := samplesDir
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("SRCTL_TEST_DISALLOW_SKIP") == "1" {
			t.Fatalf("sample corpus %s missing and SRCTL_TEST_DISALLOW_SKIP=1", dir)
		}
		t.Skipf("sample corpus %s not present: skipping", dir)
	}
	type want struct {
		id, state, sqlPrefix, sqlContains                             string
		total, cpu, wall, planner, deliver, network                   int64
		peakMem, spill, scanBytes, scanRawRows, remote, local, dcRead int64
		scanOps                                                       int
	}
	const mib, gib = 1 << 20, 1 << 30
	cases := map[string]want{
		"profile-3.5.2-connector-scan-count-finished.txt": {id: "f7ced74b-a8ff-11f0-b3d8-f69e292b7593", state: "Finished",
			sqlPrefix: "select count(1) from user_mart.ads_user_basic_portrait_all_d_all_251014",
			total:     168e9, cpu: 3322e6, wall: 168e9, planner: 4e6, deliver: 0, network: 882468,
			peakMem: sz(307.885, mib), scanBytes: sz(1.205, gib), scanRawRows: 258794146,
			remote: sz(11.996, gib), local: 0, scanOps: 1},
		"profile-4.0.1-hive-hashjoin-datacache-finished.txt": {id: "019ae8a2-c6ce-7a82-b4a6-8b913d6c09e4", state: "Finished",
			sqlPrefix: "SELECT  t.dayno\n       ,SUM(IF(app_type = '应用', click_detail_nums, 0)) game_click_detail_nums", sqlContains: "LEFT JOIN",
			total: 169e9, cpu: 21300e9, wall: 166e9, planner: 1957e6, deliver: 0, network: 1186e6,
			peakMem: sz(26.150, gib), scanRawRows: 112290757 + 58245448,
			remote: sz(66.601, gib) + sz(1.335, gib), dcRead: sz(569.804, gib), scanOps: 2},
		"profile-3.4.4-insert-overwrite-spill-join.txt": {id: "3e6c6690-d432-11f0-8ae1-aa571faaa115", state: "Finished",
			sqlPrefix: "insert overwrite `ads_yihuan_third_version_dashboard_agent_tod` SELECT",
			total:     6593e6, cpu: 75e9, wall: 2570e6, deliver: 177826e3, network: 8759e3, peakMem: sz(381.036, mib), scanOps: -1},
	}
	for name, w := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			p := Parse(string(b))
			for _, warn := range p.Warnings {
				t.Errorf("warning: %s", warn)
			}
			h := p.Headlines()
			if p.QueryID() != w.id || h.State != w.state || !strings.HasPrefix(p.SQL(), w.sqlPrefix) || !strings.Contains(p.SQL(), w.sqlContains) {
				t.Errorf("summary: id %q state %q sql %.80q", p.QueryID(), h.State, p.SQL())
			}
			check := func(name string, got, want int64) {
				if got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
			}
			check("total_ns", h.TotalNS, w.total)
			check("cpu_ns", h.CPUNS, w.cpu)
			check("execution_wall_ns", h.ExecutionWallNS, w.wall)
			check("result_deliver_ns", h.ResultDeliverNS, w.deliver)
			check("network_ns", h.NetworkNS, w.network)
			check("peak_memory_per_node_bytes", h.PeakMemoryPerNodeBytes, w.peakMem)
			check("spill_bytes", h.SpillBytes, w.spill)
			if w.planner != 0 {
				check("planner_ns", h.PlannerNS, w.planner)
			}
			if w.scanOps >= 0 {
				check("scan_operators", int64(h.ScanOperators), int64(w.scanOps))
				check("scan_raw_rows", h.ScanRawRows, w.scanRawRows)
				check("scan_remote_bytes", h.ScanRemoteBytes, w.remote)
				check("scan_local_bytes", h.ScanLocalBytes, w.local)
				check("datacache_read_bytes", h.DataCacheReadBytes, w.dcRead)
				if w.scanBytes != 0 {
					check("scan_bytes", h.ScanBytes, w.scanBytes)
				}
			}
			if len(h.TopOperators) == 0 || h.TopOperators[0].NS <= 0 {
				t.Errorf("no top operators")
			}
		})
	}
}

// sz is f units in bytes, rounded as the parser rounds.
func sz(f float64, unit int64) int64 { return int64(f*float64(unit) + 0.5) }
