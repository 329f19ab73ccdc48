package harness

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srctl/srctl/analyze/plan"
	"github.com/srctl/srctl/analyze/profile"
	"github.com/srctl/srctl/internal/testenv"
)

// golden compares got with testdata/name (go test -update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got)
}

// sampleReport has one case of each outcome, with fixed numbers.
func sampleReport() *Report {
	s := func(v string) *string { return &v }
	lat := func(a, b, ratio, lo, hi, p float64, verdict string) *Latency {
		return &Latency{Baseline: SideLatency{Runs: 10, MedianMS: a, P90MS: a * 1.1, Samples: make([]float64, 10)},
			Candidate: SideLatency{Runs: 10, MedianMS: b, P90MS: b * 1.1, Samples: make([]float64, 10)},
			Ratio:     ratio, RatioLo: lo, RatioHi: hi, P: p, Verdict: verdict, DeltaMS: b - a, MinDeltaMS: 0.5}
	}
	slow := lat(12.5, 48.25, 3.86, 3.5, 4.2, 0.00001, "slower")
	slow.Confirmation = lat(12.4, 48.0, 3.87, 3.5, 4.2, 0.00001, "slower")
	floor := lat(0.31, 0.38, 1.22, 1.1, 1.3, 0.002, "~")
	floor.BelowFloor = true
	cols := []Column{{"id", "INT"}, {"amount", "DECIMAL"}}
	r := &Report{Schema: ReportSchema, Server: Server{Kind: StarRocks, Version: "3.5.2-69de616"}, DSN: "ci:***@tcp(fe:9030)/shop",
		Settings: Settings{Warmup: 1, Iterations: 10, TimeoutMS: 300000, Cold: true, Alpha: 0.05, MinLatencyDelta: 0.5,
			SessionSetup: []string{"SET enable_query_cache = false"}}}
	r.Add(&CaseResult{Case: Case{Name: "orders_by_customer", BaselineSource: "git:origin/main:sql/orders_by_customer.sql", CandidateSource: "sql/orders_by_customer.sql"},
		Bits: BitLatency | BitResource, Reasons: []string{"latency regression: +286.0% (95% CI +250.0% to +320.0%, p<0.001), confirmed on new connections",
			"resource regression: CPU time +140.0% (limit +25%), median of 3 profiled runs per side"},
		Result:  &RowDiff{BaselineRows: 120, CandidateRows: 120, BaselineColumns: cols, CandidateColumns: cols, FirstOrderDiff: -1},
		Latency: slow,
		Plan: &PlanDiff{Statement: "EXPLAIN COSTS", Diff: plan.Diff{Changes: []plan.Change{{Kind: "scan", Text: "scan of orders lost its index: rollup idx_customer → orders"}},
			Unified: "--- baseline\n+++ candidate\n@@ -1,2 +1,2 @@\n 0:OLAP_SCAN\n-  rollup: idx_customer\n+  rollup: orders\n"}},
		Profile: &Profiles{Runs: 3, MinCPUDeltaNS: 500_000, BaselineQueryID: "q-a", CandidateQueryID: "q-b", Metrics: []profile.MetricDelta{
			{Name: "cpu", Unit: "ns", A: 50_000_000, B: 120_000_000, Ratio: 2.4},
			{Name: "peak memory per node", Unit: "bytes", A: 4 << 20, B: 4 << 20, Ratio: 1},
			{Name: "scanned", Unit: "bytes", A: 1 << 20, B: 64 << 20, Ratio: 64},
		}}})
	r.Add(&CaseResult{Case: Case{Name: "revenue[eu]", BaselineSource: "a.sql", CandidateSource: "b.sql.tmpl"},
		Bits: BitResultDiff, Reasons: []string{"result differs: 1 changed, 1 missing (baseline 3 rows, candidate 2)"},
		Result: &RowDiff{BaselineRows: 3, CandidateRows: 2, BaselineColumns: cols, CandidateColumns: cols, Changed: 1, Missing: 1, FirstOrderDiff: -1,
			Examples: []RowExample{{Kind: "changed", Baseline: []*string{s("7"), s("10.50")}, Candidate: []*string{s("7"), s("10.75")}},
				{Kind: "missing", Baseline: []*string{s("9"), nil}}}},
		Latency: floor})
	r.Add(&CaseResult{Case: Case{Name: "broken", BaselineSource: "c.sql", CandidateSource: "d.sql"},
		Bits: BitCandidateError, Reasons: []string{"the candidate fails where the baseline succeeds: Error 1064: syntax error near '|'"},
		Candidate: &SideError{Message: "Error 1064: syntax error near '|'", Code: 1064}})
	r.Add(&CaseResult{Case: Case{Name: "same", BaselineSource: "e.sql", CandidateSource: "f.sql"},
		Result:  &RowDiff{Ordered: true, BaselineRows: 5, CandidateRows: 5, BaselineColumns: cols, CandidateColumns: cols, FirstOrderDiff: -1},
		Latency: lat(5, 5.1, 1.02, 0.97, 1.08, 0.41, "~"), Plan: &PlanDiff{Statement: "EXPLAIN COSTS", Diff: plan.Diff{Same: true}}})
	return r
}

func TestReportGolden(t *testing.T) {
	r := sampleReport()
	if r.ExitCode != BitLatency|BitResource|BitResultDiff|BitCandidateError || r.Failed() != 3 {
		t.Fatalf("exit %d, failed %d", r.ExitCode, r.Failed())
	}
	var text, md, js bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt.golden", text.String())
	golden(t, "report.md.golden", md.String())
	golden(t, "report.json.golden", js.String())

	// The JSON is the documented schema: decode what a consumer reads.
	var back struct {
		Schema string `json:"schema"`
		Exit   int    `json:"exit_code"`
		Cases  []struct {
			Bits    int      `json:"exit_bits"`
			Reasons []string `json:"reasons"`
			Latency *struct {
				Verdict      string  `json:"verdict"`
				P            float64 `json:"p_value"`
				Confirmation *struct {
					Verdict string `json:"verdict"`
				} `json:"confirmation"`
			} `json:"latency"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != ReportSchema || back.Exit != r.ExitCode || back.Cases[0].Latency.Confirmation.Verdict != "slower" {
		t.Errorf("JSON round trip: %+v", back)
	}
	// A pipe in a message must not end a Markdown cell or list item early.
	if !strings.Contains(md.String(), `near '\|'`) {
		t.Error("the pipe in the candidate's message is not escaped")
	}
}
