package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/source"
)

// changeAt is the moment the generated streams split: before [changeAt-1h, changeAt), after
// [changeAt, changeAt+1h).
var changeAt = time.Date(2026, 3, 5, 14, 0, 0, 0, time.UTC)

// vspec plants one endpoint's behaviour in a generated before/after stream: latencies are
// log-normal (median median ms, log-sd sigma) before; after the change each execution's z-score
// draw goes through change (nil: unchanged), so effects on parts of the distribution are exact.
type vspec struct {
	route          string
	before, after  int // executions in each window
	median, sigma  float64
	change         func(ms, z float64) float64
	shadow         bool    // also write shadow rows (the same latency, independent noise)
	failAfter      float64 // share of executions failing after the change (shadow only when shadow)
	failCode       int
	shadowOnlySlow float64 // after the change, the shadow is this much slower (0: not)
}

// proxyRow is a log row with the existing proxy's keys in its order, and srctl shadow's
// error_code.
type proxyRow struct {
	TS         string  `json:"ts"`
	QueryID    string  `json:"query_id"`
	Target     string  `json:"target"`
	Command    string  `json:"command"`
	QueryText  string  `json:"query_text"`
	DurationMS float64 `json:"duration_ms"`
	BytesSent  int     `json:"bytes_sent"`
	BytesRecv  int     `json:"bytes_recv"`
	Success    bool    `json:"success"`
	Error      string  `json:"error,omitempty"`
	ClientAddr string  `json:"client_addr"`
	ErrorCode  int     `json:"error_code,omitempty"`
}

// validateStream writes the existing proxy's JSONL (FORMATS.md section 1; srctl shadow's
// error_code when an error is planted) for the specs, in one stream.
func validateStream(seed uint64, specs []vspec) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	for _, s := range specs {
		for side, n := range []int{s.before, s.after} {
			start := changeAt.Add(-time.Hour)
			if side == after {
				start = changeAt
			}
			for i := range n {
				ts := start.Add(time.Duration((float64(i) + rng.Float64()) / float64(n) * float64(time.Hour)))
				z := rng.NormFloat64()
				ms := s.median * math.Exp(s.sigma*z)
				if side == after && s.change != nil {
					ms = s.change(ms, z)
				}
				qid := fmt.Sprintf("%s-%d-%d", s.route, side, i)
				sql := fmt.Sprintf("SELECT * FROM t WHERE id = %d /*route='%s'*/", rng.IntN(1000), url.QueryEscape(s.route))
				targets := []string{"primary"}
				if s.shadow {
					targets = append(targets, "shadow")
				}
				for _, target := range targets {
					d := ms
					if target == "shadow" {
						d = ms * math.Exp(0.05*rng.NormFloat64())
						if side == after && s.shadowOnlySlow > 0 {
							d *= s.shadowOnlySlow
						}
					}
					row := proxyRow{TS: ts.Format(time.RFC3339Nano), QueryID: qid, Target: target, Command: "COM_QUERY",
						QueryText: sql, DurationMS: math.Round(d*1000) / 1000, BytesSent: len(sql), BytesRecv: 900 + rng.IntN(50),
						Success: true, ClientAddr: "10.0.0.1:4000"}
					failing := side == after && s.failAfter > 0 && (target == "shadow" || !s.shadow)
					if failing && rng.Float64() < s.failAfter {
						row.Success, row.Error, row.ErrorCode = false, "FUNCTION discount does not exist", s.failCode
					}
					line, _ := json.Marshal(row)
					b.Write(line)
					b.WriteByte('\n')
				}
			}
		}
	}
	return b.Bytes()
}

// runValidate validates a stream split at changeAt with cfg (windows filled in).
func runValidate(t testing.TB, stream []byte, cfg ValidateConfig) *ValidateReport {
	t.Helper()
	cfg.Before = lakehouse.Window{Since: changeAt.Add(-time.Hour), Until: changeAt}
	cfg.After = lakehouse.Window{Since: changeAt, Until: changeAt.Add(time.Hour)}
	set, err := source.Resolve(context.Background(), []string{"-"}, source.ProxyLogs, source.Options{Stdin: bytes.NewReader(stream)})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	rep, err := Validate(context.Background(), ValidateInputs{Logs: set}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func endpointOf(rep *ValidateReport, route, target string) *ValidateEndpoint {
	for i := range rep.Endpoints {
		if e := &rep.Endpoints[i]; e.Endpoint == route && e.Target == target {
			return e
		}
	}
	return nil
}

// TestValidatePlantedEffects is the list of planted changes, with 55 unchanged
// endpoints around them.
func TestValidatePlantedEffects(t *testing.T) {
	const n = 3000
	specs := []vspec{
		// The median 30% faster, the slowest 5% four times slower: a regression at the tail.
		{route: "/tail-blowup", before: n, after: n, median: 20, sigma: 0.4, change: func(ms, z float64) float64 {
			if z > 1.6449 {
				return ms * 4
			}
			return ms * 0.7
		}},
		{route: "/uniform-faster", before: n, after: n, median: 30, sigma: 0.3, change: func(ms, _ float64) float64 { return ms * 0.6 }},
		{route: "/uniform-slower", before: n, after: n, median: 30, sigma: 0.3, change: func(ms, _ float64) float64 { return ms * 1.3 }},
		{route: "/tripled-traffic", before: n / 3, after: n, median: 15, sigma: 0.3},
		// Only the slowest 2% get faster (a timeout fixed): P99 improves, the rest does not move.
		{route: "/p99-only", before: n, after: n, median: 10, sigma: 0.3, change: func(ms, z float64) float64 {
			if z > 2.0537 {
				return ms * 0.3
			}
			return ms
		}},
	}
	for i := range 55 {
		specs = append(specs, vspec{route: fmt.Sprintf("/steady/%02d", i), before: 400, after: 400, median: 5 + float64(i), sigma: 0.35})
	}
	rep := runValidate(t, validateStream(1, specs), ValidateConfig{})

	tail := endpointOf(rep, "/tail-blowup", "primary")
	if tail.Verdict != VerdictRegression || !slices.Contains(tail.RegressedAt, "p99") || !tail.Mixed || !slices.Contains(tail.ImprovedAt, "p50") {
		t.Errorf("tail blow-up: verdict %q regressed at %v improved at %v mixed %v, want a regression at p99, mixed with an improved p50",
			tail.Verdict, tail.RegressedAt, tail.ImprovedAt, tail.Mixed)
	}
	if e := endpointOf(rep, "/uniform-faster", "primary"); e.Verdict != VerdictImprovement || len(e.ImprovedAt) < 4 || e.ImpactMS >= 0 {
		t.Errorf("0.6x: %q at %v, impact %v", e.Verdict, e.ImprovedAt, e.ImpactMS)
	}
	if e := endpointOf(rep, "/uniform-slower", "primary"); e.Verdict != VerdictRegression || !slices.Contains(e.RegressedAt, "centre") || e.ImpactMS <= 0 {
		t.Errorf("1.3x: %q at %v, impact %v", e.Verdict, e.RegressedAt, e.ImpactMS)
	}
	if e := endpointOf(rep, "/tripled-traffic", "primary"); e.Verdict != VerdictSame || !e.Traffic.Shifted {
		t.Errorf("tripled traffic: verdict %q (want ~), traffic shifted %v", e.Verdict, e.Traffic.Shifted)
	}
	if e := endpointOf(rep, "/p99-only", "primary"); e.Verdict != VerdictImprovement || !slices.Equal(e.ImprovedAt, []string{"p99"}) {
		t.Errorf("P99-only fix: %q improved at %v, want exactly [p99]", e.Verdict, e.ImprovedAt)
	}
	flagged := 0
	for i := range 55 {
		e := endpointOf(rep, fmt.Sprintf("/steady/%02d", i), "primary")
		if e.Verdict != VerdictSame || e.Traffic.Shifted || e.Errors.Worse {
			flagged++
			t.Logf("steady endpoint flagged: %s %s at %v%v", e.Endpoint, e.Verdict, e.RegressedAt, e.ImprovedAt)
		}
	}
	if flagged > 2 {
		t.Errorf("%d of 55 unchanged endpoints got a verdict, want at most 2", flagged)
	}
	h := rep.Headline
	if h.Regressed.Endpoints != 2 || h.Improved.Endpoints != 2 || h.Regressed.Executions != 4*n {
		t.Errorf("headline %+v", h)
	}
	if rep.Endpoints[0].Endpoint != "/tail-blowup" && rep.Endpoints[0].Endpoint != "/uniform-slower" {
		t.Errorf("first row %s: regressions rank first", rep.Endpoints[0].Endpoint)
	}
	if rep.Summary.TimeOfDayOverlapPct > 10 || len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0], "different hours") {
		t.Errorf("windows 13-14h and 14-15h: overlap %v%%, warnings %q", rep.Summary.TimeOfDayOverlapPct, rep.Warnings)
	}
	if t.Failed() {
		var out bytes.Buffer
		RenderValidateTable(&out, rep, RenderOptions{})
		t.Log(out.String())
	}
}

// TestValidateAA: two windows from the same distributions give only "~", on both targets.
func TestValidateAA(t *testing.T) {
	var specs []vspec
	for i := range 20 {
		specs = append(specs, vspec{route: fmt.Sprintf("/aa/%02d", i), before: 300 + 50*i, after: 300 + 50*i, median: 3 + 7*float64(i), sigma: 0.5, shadow: true})
	}
	rep := runValidate(t, validateStream(2, specs), ValidateConfig{})
	if len(rep.Endpoints) != 40 {
		t.Fatalf("%d endpoint rows, want 20 endpoints x 2 targets", len(rep.Endpoints))
	}
	for _, e := range rep.Endpoints {
		if e.Verdict != VerdictSame || e.Traffic.Shifted {
			t.Errorf("A/A: %s [%s] %s at %v%v, traffic shifted %v", e.Endpoint, e.Target, e.Verdict, e.RegressedAt, e.ImprovedAt, e.Traffic.Shifted)
		}
		for _, q := range e.Quantiles {
			if q.Verdict != VerdictSame && q.Verdict != VerdictInsufficient {
				t.Errorf("A/A: %s [%s] %s %s", e.Endpoint, e.Target, q.Quantile, q.Verdict)
			}
		}
	}
	if h := rep.Headline; h.Unchanged.Endpoints != 40 || h.NetMSPerDay != 0 {
		t.Errorf("headline %+v", h)
	}
}

// TestValidateCalibration: over 200 simulated A/A pairs, the share of endpoints given any
// verdict stays at or under alpha, with the relative and absolute floors off so that only the
// statistics decide.
func TestValidateCalibration(t *testing.T) {
	const pairs, perPair = 200, 10
	alarms, total := 0, 0
	for seed := range uint64(pairs) {
		rng := rand.New(rand.NewPCG(seed, 1))
		var specs []vspec
		for i := range perPair {
			n := 100 + rng.IntN(900)
			specs = append(specs, vspec{route: fmt.Sprintf("/cal/%d", i), before: n, after: n + rng.IntN(n/4), median: 1 + rng.Float64()*50, sigma: 0.2 + rng.Float64()})
		}
		rep := runValidate(t, validateStream(1000+seed, specs), ValidateConfig{Threshold: 1e-9})
		for _, e := range rep.Endpoints {
			total++
			if e.Verdict != VerdictSame {
				alarms++
			}
		}
	}
	rate := float64(alarms) / float64(total)
	t.Logf("A/A false alarms: %d of %d endpoints (%.2f%%)", alarms, total, rate*100)
	if total != pairs*perPair || rate > 0.05 {
		t.Errorf("false alarm rate %.3f over %d endpoints, want <= 0.05", rate, total)
	}
}

// TestValidateErrorsTargetsAndTwoSets: a change validated on the shadow while the primary runs
// the old version; a new error on the shadow; the same logs given as two sets.
func TestValidateErrorsTargetsAndTwoSets(t *testing.T) {
	specs := []vspec{
		{route: "/orders/by-customer", before: 400, after: 400, median: 8, sigma: 0.3, shadow: true, shadowOnlySlow: 3},
		{route: "/orders/discount", before: 400, after: 400, median: 4, sigma: 0.3, shadow: true, failAfter: 0.2, failCode: 1305},
		{route: "/customers/get", before: 400, after: 400, median: 2, sigma: 0.3, shadow: true},
	}
	stream := validateStream(3, specs)
	rep := runValidate(t, stream, ValidateConfig{})
	var verdicts []string
	for _, e := range rep.Endpoints {
		if e.Verdict != VerdictSame || e.Errors.Worse {
			verdicts = append(verdicts, fmt.Sprintf("%s %s %s worse-errors=%v", e.Endpoint, e.Target, e.Verdict, e.Errors.Worse))
		}
	}
	want := []string{"/orders/by-customer shadow regression worse-errors=false", "/orders/discount shadow ~ worse-errors=true"}
	if !slices.Equal(verdicts, want) {
		t.Errorf("verdicts\n got %q\nwant %q", verdicts, want)
	}
	d := endpointOf(rep, "/orders/discount", "shadow")
	if len(d.Errors.New) != 1 || d.Errors.New[0].ErrorCode != 1305 || d.Errors.New[0].Before != 0 || d.Errors.New[0].After < 50 || d.Errors.New[0].Example == "" {
		t.Errorf("new errors %+v", d.Errors.New)
	}

	// --target shadow keeps one row per endpoint.
	only := runValidate(t, stream, ValidateConfig{Target: TargetShadow})
	if len(only.Endpoints) != 3 {
		t.Errorf("--target shadow: %d rows", len(only.Endpoints))
	}
	// The same windows as two sets give the same endpoint verdicts.
	var beforeRows, afterRows bytes.Buffer
	for line := range bytes.Lines(stream) {
		var r struct{ TS time.Time }
		json.Unmarshal(line, &r)
		if r.TS.Before(changeAt) {
			beforeRows.Write(line)
		} else {
			afterRows.Write(line)
		}
	}
	open := func(b []byte) *source.Set {
		set, err := source.Resolve(context.Background(), []string{"-"}, source.ProxyLogs, source.Options{Stdin: bytes.NewReader(b)})
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	two, err := Validate(context.Background(), ValidateInputs{Before: open(beforeRows.Bytes()), After: open(afterRows.Bytes())}, ValidateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rep.Endpoints {
		o := endpointOf(two, e.Endpoint, e.Target)
		if o == nil || o.Verdict != e.Verdict || o.Before.Executions != e.Before.Executions || o.After.Executions != e.After.Executions {
			t.Errorf("two sets: %s %s differs: %+v", e.Endpoint, e.Target, o)
		}
	}
}

// TestValidateDrillAndRender: the drill-down's curves, and every output format renders.
func TestValidateDrillAndRender(t *testing.T) {
	specs := []vspec{{route: "/slow", before: 600, after: 600, median: 10, sigma: 0.3, change: func(ms, _ float64) float64 { return ms * 2 }}}
	rep := runValidate(t, validateStream(4, specs), ValidateConfig{Endpoint: "/slow"})
	if rep.Drill == nil || len(rep.Drill.Curves) != 1 || len(rep.Drill.Curves[0].Points) != len(drillLevels) {
		t.Fatalf("drill %+v", rep.Drill)
	}
	for _, p := range rep.Drill.Curves[0].Points {
		if r := *p.AfterMS / *p.BeforeMS; r < 1.6 || r > 2.5 {
			t.Errorf("quantile %v: after/before %.2f, want about 2", p.Quantile, r)
		}
	}
	var table, md, csvOut, js bytes.Buffer
	if err := RenderValidateTable(&table, rep, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RenderValidateMarkdown(&md, rep, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteValidateCSV(&csvOut, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteValidateJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"table": table.String(), "markdown": md.String()} {
		for _, want := range []string{"regression (p50,p90,p95,p99,centre)", "/slow", "latency quantiles before → after", "99.9%"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s output lacks %q:\n%s", name, want, out)
			}
		}
	}
	if lines := strings.Count(csvOut.String(), "\n"); lines != 2 {
		t.Errorf("CSV: %d lines", lines)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back["schema"] != ValidateSchema {
		t.Errorf("JSON: %v %v", err, back["schema"])
	}
}

func TestHourOfDay(t *testing.T) {
	for _, tm := range []time.Time{changeAt, changeAt.Add(-time.Nanosecond), time.Unix(0, 0), time.Unix(-1, 0), time.Unix(-3600, 0), time.Unix(-3601, 0),
		time.Date(1969, 12, 31, 5, 30, 0, 0, time.UTC), time.Date(2040, 1, 1, 23, 59, 59, 0, time.UTC)} {
		if got, want := hourOfDay(tm.UnixNano()), tm.UTC().Hour(); got != want {
			t.Errorf("%v: hour %d, want %d", tm, got, want)
		}
	}
}
