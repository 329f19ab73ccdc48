package analyze

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/source"
	"github.com/srctl/srctl/testdouble/trafficgen"
)

var genStart = time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)

func generate(t *testing.T, cfg trafficgen.Config) string {
	t.Helper()
	cfg.Dir = t.TempDir()
	if _, err := trafficgen.Generate(cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.Dir
}

// logsOf and profilesOf resolve local inputs as srctl diff does.
func logsOf(t testing.TB, inputs ...string) *source.Set { return resolve(t, source.ProxyLogs, inputs) }

func profilesOf(t testing.TB, inputs ...string) *source.Set {
	return resolve(t, source.Profiles, inputs)
}

func resolve(t testing.TB, kind source.Kind, inputs []string) *source.Set {
	t.Helper()
	set, err := source.Resolve(context.Background(), inputs, kind, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func byName(rep *Report) map[string]*EndpointReport {
	m := map[string]*EndpointReport{}
	for i := range rep.Endpoints {
		m[rep.Endpoints[i].Endpoint] = &rep.Endpoints[i]
	}
	return m
}

// checkAccounting: every query row lands in exactly one bucket.
func checkAccounting(t *testing.T, s Summary) {
	t.Helper()
	in := s.QueryRows + s.ExecuteRows
	out := 2*s.Pairs + s.Duplicates + s.ShadowMissing + s.PrimaryOnlyConnectionRows + s.UnpairedShadow + s.OutsideWindow
	if in != out {
		t.Errorf("query rows %d but pairs*2+duplicates+unpaired+outside = %d (%+v)", in, out, s)
	}
	if s.Rows != s.QueryRows+s.ExecuteRows+s.OtherRows {
		t.Errorf("rows %d != query %d + execute %d + other %d", s.Rows, s.QueryRows, s.ExecuteRows, s.OtherRows)
	}
	if s.Pairs != s.LatencyPairs+s.FailedPairs+s.SuspectedErrorPairs+s.Filtered {
		t.Errorf("pairs %d != latency %d + failed %d + suspected errors %d + filtered %d", s.Pairs, s.LatencyPairs, s.FailedPairs, s.SuspectedErrorPairs, s.Filtered)
	}
}

// TestPlantedDifferencesAreFound runs the whole pipeline on generated logs with one planted
// difference of each kind and the proxy's quirks, with small chunks so pairs straddle batches.
func TestPlantedDifferencesAreFound(t *testing.T) {
	dir := generate(t, trafficgen.Config{Queries: 60000, Endpoints: 16, Start: genStart, Hours: 3, Seed: 3, Quirks: true, ProfileEvery: 20})
	cfg := Config{ChunkBytes: 64 << 10, Endpoint: trafficgen.RegressedEndpoint}
	rep, err := Diff(context.Background(), logsOf(t, filepath.Join(dir, "shadow-logs")), nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, rep.Summary)
	eps := byName(rep)
	want := map[string]string{
		trafficgen.RegressedEndpoint: VerdictRegression, trafficgen.TailEndpoint: VerdictRegression,
		trafficgen.ImprovedEndpoint: VerdictImprovement, trafficgen.FailingEndpoint: VerdictSame,
		trafficgen.DivergentEndpoint: VerdictSame, "users#show": VerdictSame, StmtExecuteGroup: VerdictSame,
	}
	for name, v := range want {
		if e := eps[name]; e == nil || e.Verdict != v {
			t.Errorf("%s: verdict %v, want %s", name, e, v)
		}
	}
	for _, e := range rep.Endpoints {
		if _, planted := want[e.Endpoint]; !planted && e.Endpoint != trafficgen.LargeResultEndpoint && e.Verdict != VerdictSame {
			t.Errorf("%s: verdict %s, nothing was planted there", e.Endpoint, e.Verdict)
		}
	}
	if tail := eps[trafficgen.TailEndpoint]; tail.QuantileVerdicts.P50 != VerdictSame || tail.QuantileVerdicts.P99 != VerdictRegression {
		t.Errorf("tail-only regression: quantile verdicts %+v, want P50 ~ and P99 regression", tail.QuantileVerdicts)
	}
	if rep.Endpoints[0].Endpoint != trafficgen.RegressedEndpoint {
		t.Errorf("ranked first: %s, want the regression with the largest impact", rep.Endpoints[0].Endpoint)
	}
	if f := eps[trafficgen.FailingEndpoint]; f.ShadowOnlyFailures == 0 || f.Pairs == 0 {
		t.Errorf("failing endpoint: %d shadow-only failures", f.ShadowOnlyFailures)
	}
	if d := eps[trafficgen.DivergentEndpoint].SizeDivergence; !d.Suspected || d.OffsetBytes != 12 || len(d.Examples) == 0 {
		t.Errorf("divergent endpoint: %+v, want suspected with the 12 B offset", d)
	}
	for name, e := range eps {
		if name != trafficgen.DivergentEndpoint && e.SizeDivergence.Suspected {
			t.Errorf("%s suspected of size divergence: %+v", name, e.SizeDivergence)
		}
	}
	if n := eps[trafficgen.LargeResultEndpoint].Notes; len(n) == 0 || !strings.Contains(n[0], "streaming") {
		t.Errorf("large-result endpoint notes %q, want the measurement asymmetry", n)
	}
	s := rep.Summary
	if s.Duplicates != 60 || s.PrimaryOnlyConnections != 1 || s.PrimaryOnlyConnectionRows != 120 || s.ShadowMissing == 0 || s.Filtered == 0 || s.BadLines != 2 {
		t.Errorf("data quality: duplicates %d (want 60), primary-only %d rows on %d connections (want 120 on 1), shadow missing %d, filtered %d, bad lines %d (want 2)",
			s.Duplicates, s.PrimaryOnlyConnectionRows, s.PrimaryOnlyConnections, s.ShadowMissing, s.Filtered, s.BadLines)
	}
	if rep.Drill == nil || len(rep.Drill.Worst) != worstPairs || rep.Drill.Worst[0].DeltaPct < rep.Drill.Worst[len(rep.Drill.Worst)-1].DeltaPct {
		t.Fatalf("drill-down worst pairs %+v", rep.Drill)
	}

	rep, err = Diff(context.Background(), logsOf(t, filepath.Join(dir, "shadow-logs")), profilesOf(t, filepath.Join(dir, "starrocks-query-profiles")), cfg)
	if err != nil {
		t.Fatal(err)
	}
	eps = byName(rep)
	if why := strings.Join(eps[trafficgen.RegressedEndpoint].Why, "; "); !strings.Contains(why, "scanned x3") || !strings.Contains(why, "scan raw rows x3") {
		t.Errorf("why of the regression = %q, want the tripled scan", why)
	}
	if why := eps["users#show"].Why; len(why) != 0 {
		t.Errorf("why of an unchanged endpoint = %q, want nothing", why)
	}
	found := false
	for _, f := range rep.Failures {
		if f.Kind == FailShadowProfile && f.Endpoint == trafficgen.DivergentEndpoint && strings.Contains(f.Error, "Unknown table") {
			found = true
		}
	}
	if !found {
		t.Errorf("FAILED shadow queries of the divergent endpoint not reported: %+v", rep.Failures)
	}
	if p := rep.Drill.Profile; p == nil || p.PrimaryProfileID == "" || !strings.Contains(strings.Join(p.Lines, "\n"), "scanned") {
		t.Errorf("representative profile comparison %+v", p)
	}
}

// TestAAComesOutSame: with the same cluster on both sides nothing may be reported.
func TestAAComesOutSame(t *testing.T) {
	dir := generate(t, trafficgen.Config{Queries: 80000, Endpoints: 30, Start: genStart, Hours: 2, Seed: 11, AA: true})
	rep, err := Diff(context.Background(), logsOf(t, dir), nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, rep.Summary)
	for _, e := range rep.Endpoints {
		if e.Verdict != VerdictSame && e.Verdict != VerdictInsufficient || e.SizeDivergence.Suspected || e.ShadowOnlyFailures > 0 {
			t.Errorf("A/A: %s verdict %s (p_adj %.3g, centre %+.1f%%, %+v), divergence %v", e.Endpoint, e.Verdict, e.PAdjusted, e.CentreDeltaPct, e.QuantileVerdicts, e.SizeDivergence.Suspected)
		}
	}
}

func line(ts, id, target, sql string, ms float64, ok bool, extra string) string {
	return fmt.Sprintf(`{"ts":%q,"query_id":%q,"target":%q,"command":"COM_QUERY","query_text":%q,"duration_ms":%v,"bytes_recv":500,"success":%v,"client_addr":"10.0.0.1:1"%s}`,
		ts, id, target, sql, ms, ok, extra)
}

// TestPairingAcrossFilesWindowAndDuplicates pins the pairing rules on hand-written rows.
func TestPairingAcrossFilesWindowAndDuplicates(t *testing.T) {
	dir := t.TempDir()
	sql := "SELECT 1 /*route='%2Fa'*/"
	h1 := []string{
		line("2026-03-05T10:59:59.9Z", "q1", "primary", sql, 10, true, ""),
		line("2026-03-05T10:59:59.9Z", "q1", "primary", sql, 10, true, ""), // duplicate in the same file
		line("2026-03-05T10:00:00Z", "q2", "primary", sql, 10, true, ""),
		line("2026-03-05T10:00:00Z", "q2", "shadow", sql, 0, true, `,"filtered":true,"filter_reason":"pattern"`),
		line("2026-03-05T09:00:00Z", "q3", "primary", sql, 10, true, ""), // before --since
		line("2026-03-05T09:00:00Z", "q3", "shadow", sql, 10, true, ""),
		line("2026-03-05T10:30:00Z", "q4", "primary", sql, 10, true, ""),
		line("2026-03-05T10:30:00Z", "q4", "shadow", sql, 99, false, `,"error":"i/o timeout"`),
		`{"ts":"2026-03-05T10:30:00Z","query_id":"q5","target":"primary","command":"COM_PING","duration_ms":0,"success":true}`,
	}
	h2 := []string{
		line("2026-03-05T11:00:00.1Z", "q1", "shadow", sql, 12, true, ""), // the pair straddles hours
		line("2026-03-05T11:00:00.2Z", "q1", "shadow", sql, 12, true, ""), // duplicate in another file
		line("2026-03-05T11:10:00Z", "q6", "primary", sql, 10, true, ""),  // its shadow row was dropped
	}
	for name, rows := range map[string][]string{"year=2026/month=03/day=05/hour=10/a.jsonl": h1, "year=2026/month=03/day=05/hour=11/b.jsonl": h2} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Diff(context.Background(), logsOf(t, dir), nil, Config{ChunkBytes: 200, Window: lakehouse.Window{Since: genStart}})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Summary
	checkAccounting(t, s)
	if s.Pairs != 3 || s.LatencyPairs != 1 || s.Filtered != 1 || s.FilteredBy["pattern"] != 1 || s.FailedPairs != 1 || s.ShadowOnlyFailures != 1 ||
		s.Duplicates != 2 || s.OutsideWindow != 2 || s.ShadowMissing != 1 || s.OtherRows != 1 {
		t.Errorf("summary %+v", s)
	}
	if len(rep.Endpoints) != 1 || rep.Endpoints[0].Endpoint != "/a" || rep.Endpoints[0].Pairs != 1 || rep.Endpoints[0].Verdict != VerdictInsufficient {
		t.Errorf("endpoints %+v", rep.Endpoints)
	}
	if len(rep.Failures) != 1 || rep.Failures[0].Kind != FailShadowOnly || rep.Failures[0].Error != "i/o timeout" || rep.Failures[0].Example != "q4" {
		t.Errorf("failures %+v", rep.Failures)
	}
}

func TestKeySetGenerations(t *testing.T) {
	ks := newKeySet()
	const mul = uint64(0x9E3779B97F4A7C15)
	for k := uint64(1); k <= doneGeneration+10; k++ {
		ks.add(k * mul)
	}
	five, last := uint64(5), uint64(doneGeneration+10)
	if !ks.has(five*mul) || !ks.has(last*mul) || ks.has(12345) {
		t.Error("key set lost a key of the previous generation or invented one")
	}
	ks.add(0)
	if !ks.has(0) {
		t.Error("key 0 not kept")
	}
	ks.release() // both generations' tables are mapped memory (hugemem): given back, twice is harmless
	ks.release()
	if ks.cur != nil || ks.old != nil || ks.n != 0 {
		t.Error("release kept the tables")
	}
}

// TestShadowFailureNotCountedTwice: a shadow-only failure seen in the logs and the FAILED
// shadow profile of the same execution (same text hash, minutes apart) count once; a FAILED
// profile of another execution of the text, eight minutes later, counts on its own.
func TestShadowFailureNotCountedTwice(t *testing.T) {
	dir := t.TempDir()
	sql := "SELECT * FROM gone /*route='%2Fb'*/"
	hash := fmt.Sprintf("%x", md5.Sum([]byte(sql)))
	extra := `,"query_hash":"` + hash + `"`
	logs := []string{
		line("2026-03-05T10:30:00Z", "q1", "primary", sql, 10, true, extra),
		line("2026-03-05T10:30:01Z", "q1", "shadow", sql, 5, false, extra+`,"error":"Unknown table gone"`),
	}
	logPath := filepath.Join(dir, "logs", "year=2026/month=03/day=05/hour=10/a.jsonl")
	rec := func(cluster, state, start string) string {
		r := lakehouse.ProfileRecord{Cluster: cluster, QueryID: cluster + start, State: state, SQLText: sql, QueryHash: hash,
			ErrorMessage: map[bool]string{true: "Unknown table gone"}[state == "FAILED"]}
		r.StartTime, _ = time.Parse(time.RFC3339, start)
		r.TS = r.StartTime
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	profs := []string{
		rec("primary", "FINISHED", "2026-03-05T10:29:59Z"),
		rec("shadow", "FAILED", "2026-03-05T10:30:00Z"), // the logged execution
		rec("shadow", "FAILED", "2026-03-05T10:38:00Z"), // another one, missing from the logs
	}
	profPath := filepath.Join(dir, "profiles", "year=2026/month=03/day=05/hour=10/p.jsonl")
	for p, rows := range map[string][]string{logPath: logs, profPath: profs} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Diff(context.Background(), logsOf(t, filepath.Join(dir, "logs")), profilesOf(t, filepath.Join(dir, "profiles")), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.ShadowOnlyFailures != 2 || rep.Endpoints[0].ShadowOnlyFailures != 2 || rep.Profiles.FailedAlsoLogged != 1 {
		t.Errorf("shadow-only failures: summary %d, endpoint %d, profiles also logged %d; want 2, 2, 1",
			rep.Summary.ShadowOnlyFailures, rep.Endpoints[0].ShadowOnlyFailures, rep.Profiles.FailedAlsoLogged)
	}
}

// TestReportIsTheSameWhateverTheWorkers: the same logs give the same report byte for byte
// whatever the number of parser goroutines and the chunk size (which decide which goroutine sees
// a group first and in which order pairs are merged): samples, examples, impact and the
// drill-down are chosen by rule, not by arrival.
func TestReportIsTheSameWhateverTheWorkers(t *testing.T) {
	dir := generate(t, trafficgen.Config{Queries: 20000, Endpoints: 12, Start: genStart, Hours: 2, Seed: 11, Quirks: true, ProfileEvery: 10})
	var want []byte
	for _, workers := range []int{1, 2, 3, 5} {
		cfg := Config{Workers: workers, ChunkBytes: 32 << 10, Endpoint: trafficgen.DivergentEndpoint}
		rep, err := Diff(context.Background(), logsOf(t, filepath.Join(dir, "shadow-logs")), profilesOf(t, filepath.Join(dir, "starrocks-query-profiles")), cfg)
		if err != nil {
			t.Fatal(err)
		}
		rep.Summary.ElapsedSeconds = 0
		var buf bytes.Buffer
		if err := WriteJSON(&buf, rep); err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = buf.Bytes()
			if !bytes.Contains(want, []byte(`"sample_sql"`)) || !bytes.Contains(want, []byte(`"shadow_bytes"`)) {
				t.Fatal("the report has no sample SQL or size examples: the test would prove nothing")
			}
			continue
		}
		if !bytes.Equal(want, buf.Bytes()) {
			a, b := string(want), buf.String()
			i := 0
			for i < min(len(a), len(b)) && a[i] == b[i] {
				i++
			}
			t.Fatalf("workers=%d: the report differs from workers=1 at byte %d:\n1: %.300s\n%d: %.300s", workers, i, a[max(0, i-100):], workers, b[max(0, i-100):])
		}
	}
}

// TestKeySetAddAllIsAdd: adding keys in groups (with early loads) keeps the same set as adding
// them one at a time, through the table's growth and a generation turn.
func TestKeySetAddAllIsAdd(t *testing.T) {
	one, all := newKeySet(), newKeySet()
	const mul = uint64(0x9E3779B97F4A7C15)
	var keys []uint64
	for k := uint64(0); k <= doneGeneration+1000; k++ {
		keys = append(keys, k*mul, (k/3)*mul) // repeats too
	}
	for _, k := range keys {
		one.add(k)
	}
	for len(keys) > 0 { // uneven slices, as batches come
		n := min(len(keys), 1+len(keys)%37)
		all.addAll(keys[:n])
		keys = keys[n:]
	}
	if one.n != all.n || !slices.Equal(one.cur, all.cur) || !slices.Equal(one.old, all.old) {
		t.Fatalf("addAll's set differs from add's: %d vs %d keys in the current generation", all.n, one.n)
	}
}

func BenchmarkKeySetCompleted(b *testing.B) {
	const mul = uint64(0x9E3779B97F4A7C15)
	keys := make([]uint64, 256)
	for _, grouped := range []bool{false, true} {
		b.Run(fmt.Sprintf("grouped=%v", grouped), func(b *testing.B) {
			ks := newKeySet()
			next := uint64(1)
			for range b.N {
				for i := range keys {
					keys[i] = next * mul
					next++
				}
				if grouped {
					ks.addAll(keys)
				} else {
					for _, k := range keys {
						ks.add(k)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
		})
	}
}
