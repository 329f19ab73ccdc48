package analyze

// Comparing the two windows of each endpoint and target: quantiles with their intervals, the
// centre, errors, results, traffic; then the verdicts, the headline and the ranking.

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/srctl/srctl/analyze/stats"
)

// summariseValidate turns the accumulators into endpoint reports.
func summariseValidate(rep *ValidateReport, table *groupTable, groups []groupSides, cfg ValidateConfig) {
	// Rates are over the windows asked for when both ends are known, else over the span of the
	// executions seen (at least a minute).
	for side, win := range []*WindowSummary{&rep.Before, &rep.After} {
		w := cfg.Before
		if side == after {
			w = cfg.After
		}
		if !w.Since.IsZero() {
			win.Since = w.Since.UTC().Format(time.RFC3339)
		}
		if !w.Until.IsZero() {
			win.Until = w.Until.UTC().Format(time.RFC3339)
		}
		if !w.Since.IsZero() && !w.Until.IsZero() {
			win.Hours = w.Until.Sub(w.Since).Hours()
		}
		win.Hours = math.Max(win.Hours, 1.0/60)
	}
	rep.Summary.TimeOfDayOverlapPct = hourOverlap(rep.Before.HoursOfDay, rep.After.HoursOfDay)
	targets := []string{TargetPrimary, TargetShadow}
	type job struct {
		id uint32
		t  int
	}
	var jobs []job
	for id := range groups {
		for t := range 2 {
			if groups[id][t][before] != nil || groups[id][t][after] != nil {
				jobs = append(jobs, job{uint32(id), t})
			}
		}
	}
	eps := make([]ValidateEndpoint, len(jobs))
	tested := 0
	for _, j := range jobs {
		g := groups[j.id][j.t]
		if g[before] != nil && g[after] != nil && min(successes(g[before]), successes(g[after])) >= int64(cfg.MinExecutions) {
			tested++
		}
	}
	gamma := tailGamma(cfg.Alpha, tested)
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	for i, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			info := table.info(j.id)
			eps[i] = compareWindows(info, targets[j.t], groups[j.id][j.t], rep, gamma, cfg)
		})
	}
	wg.Wait()
	// The centre tests, corrected across the endpoints tested.
	var ps []float64
	var idx []int
	for i := range eps {
		if eps[i].Verdict != VerdictInsufficient {
			ps = append(ps, eps[i].Centre.PValue)
			idx = append(idx, i)
		}
	}
	adj := stats.BenjaminiHochberg(ps)
	for k, i := range idx {
		eps[i].Centre.PAdjusted = adj[k]
		judgeCentre(&eps[i], cfg)
	}
	errAlpha := cfg.Alpha / float64(max(1, len(eps)))
	h := &rep.Headline
	for i := range eps {
		e := &eps[i]
		e.Errors.Worse = e.Errors.PValue < errAlpha && e.Errors.AfterRatePct > e.Errors.BeforeRatePct
		n := e.Before.Executions + e.After.Executions
		switch e.Verdict {
		case VerdictRegression:
			h.Regressed.Endpoints++
			h.Regressed.Executions += n
			h.NetMSPerDay += e.ImpactMS
		case VerdictImprovement:
			h.Improved.Endpoints++
			h.Improved.Executions += n
			h.NetMSPerDay += e.ImpactMS
		case VerdictSame:
			h.Unchanged.Endpoints++
			h.Unchanged.Executions += n
		default:
			h.CannotEvaluate.Endpoints++
			h.CannotEvaluate.Executions += n
		}
		if e.Errors.Worse {
			h.ErrorsWorse++
		}
		if e.Results.Changed {
			h.ResultsChanged++
		}
		if e.Traffic.Shifted {
			h.TrafficShifted++
		}
	}
	h.NetMSPerDay = math.Round(h.NetMSPerDay)
	rep.Endpoints = eps
	rep.Settings = ValidateSettings{GroupBy: cfg.GroupBy, Alpha: cfg.Alpha, MinExecutions: cfg.MinExecutions, ThresholdPct: cfg.Threshold * 100,
		MinDeltaMS: cfg.MinDeltaMS, TrafficFactor: cfg.TrafficFactor, Targets: cfg.Target, TailLevel: 1 - gamma, EndpointsTested: tested}
	if !cfg.ChangeAt.IsZero() {
		rep.Settings.ChangeAt = cfg.ChangeAt.UTC().Format(time.RFC3339)
	}
	if rep.Summary.TimeOfDayOverlapPct < 50 && rep.Before.Executions > 0 && rep.After.Executions > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the windows cover different hours of the day (overlap %.0f%%: before %s, after %s UTC): load and caches follow the clock, so part of any change may be the hour, not the change; compare the same hours of two days with --before-window/--after-window",
			rep.Summary.TimeOfDayOverlapPct, hourSpan(rep.Before.HoursOfDay), hourSpan(rep.After.HoursOfDay)))
	}
	if r := ratioOfRates(rep.Before, rep.After); r >= cfg.TrafficFactor || r <= 1/cfg.TrafficFactor {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("total traffic changed x%s between the windows (%.0f → %.0f executions per hour): load changes latency",
			trimFloat(r), float64(rep.Before.Executions)/rep.Before.Hours, float64(rep.After.Executions)/rep.After.Hours))
	}
}

func ratioOfRates(b, a WindowSummary) float64 {
	if b.Executions == 0 || a.Executions == 0 {
		return 1
	}
	return (float64(a.Executions) / a.Hours) / (float64(b.Executions) / b.Hours)
}

func successes(a *sideAcc) int64 { return int64(len(a.dur)) }

// hourOverlap is the overlap of two hour-of-day distributions in percent (the sum of the
// smaller share of each hour).
func hourOverlap(b, a [24]int64) float64 {
	var nb, na int64
	for h := range 24 {
		nb += b[h]
		na += a[h]
	}
	if nb == 0 || na == 0 {
		return 0
	}
	s := 0.0
	for h := range 24 {
		s += math.Min(float64(b[h])/float64(nb), float64(a[h])/float64(na))
	}
	return round1(s * 100)
}

// hourSpan names the hours of the day that hold executions, e.g. "02-05h".
func hourSpan(hs [24]int64) string {
	var parts []string
	for h := 0; h < 24; {
		if hs[h] == 0 {
			h++
			continue
		}
		e := h
		for e+1 < 24 && hs[e+1] > 0 {
			e++
		}
		parts = append(parts, fmt.Sprintf("%02d-%02dh", h, e+1))
		h = e + 1
	}
	return strings.Join(parts, ",")
}

var quantileNames = [4]string{"p50", "p90", "p95", "p99"}

// compareWindows compares one endpoint on one target: what needs only its own data.
func compareWindows(info groupInfo, target string, g [2]*sideAcc, rep *ValidateReport, gamma float64, cfg ValidateConfig) ValidateEndpoint {
	e := ValidateEndpoint{Endpoint: info.Name, Target: target, Source: info.Source, SampleSQL: info.SampleSQL,
		RegressedAt: []string{}, ImprovedAt: []string{}, Why: []string{}, Timing: "duration_ms", Centre: CentreChange{PValue: 1, PAdjusted: 1}}
	for side := range 2 {
		if g[side] == nil {
			g[side] = &sideAcc{failures: map[failKey]*FailureGroup{}}
		}
	}
	// server_ms only when every successful execution of both windows has it: a mix would
	// compare two different measures.
	useServer := g[before].noServer == 0 && g[after].noServer == 0 && len(g[before].dur)+len(g[after].dur) > 0
	if useServer {
		e.Timing = "server_ms"
	}
	wins := [2]WindowSummary{rep.Before, rep.After}
	var sorted [2][]float32
	for side, s := range []*SideStats{&e.Before, &e.After} {
		a := g[side]
		lat := a.dur
		sumNS := a.sumNS
		if useServer {
			lat, sumNS = a.srv, a.srvSumNS
		}
		s.Executions, s.Latencies, s.Failures = a.execs, int64(len(lat)), a.fails
		s.PerHour = round1(float64(a.execs) / wins[side].Hours)
		if len(lat) > 0 {
			s.MeanMS = round3(float64(sumNS) / 1e6 / float64(len(lat)))
			// Sorted where they are: only their number is read after this (successes), and a copy
			// would be memory new to the process (a page fault per 4 KiB on a virtual machine).
			sorted[side] = lat
			stats.SortFloat32(lat)
			q := sorted[side]
			s.Quantiles = Quantiles{round3(stats.Quantile(q, .5)), round3(stats.Quantile(q, .9)), round3(stats.Quantile(q, .95)), round3(stats.Quantile(q, .99))}
		}
	}
	e.sorted = sorted
	e.Traffic = trafficChange(e.Before, e.After, rep, cfg)
	e.Errors = errorChange(g)
	e.Results = resultChange(g)
	perDayAfter := float64(e.After.Latencies) / wins[after].Hours * 24
	e.ImpactMS = math.Round((e.After.MeanMS - e.Before.MeanMS) * perDayAfter)

	nb, na := len(sorted[before]), len(sorted[after])
	switch {
	case nb == 0 && na == 0:
		e.Verdict, e.Reason = VerdictInsufficient, "no successful executions"
	case nb == 0:
		e.Verdict, e.Reason = VerdictInsufficient, "no successful executions before the change (a new endpoint?)"
	case na == 0:
		e.Verdict, e.Reason = VerdictInsufficient, "no successful executions after the change (gone, or failing?)"
	case min(nb, na) < cfg.MinExecutions:
		e.Verdict, e.Reason = VerdictInsufficient, fmt.Sprintf("%d executions before, %d after: each window needs %d", nb, na, cfg.MinExecutions)
	}
	if e.Verdict == VerdictInsufficient {
		for _, name := range quantileNames {
			e.Quantiles = append(e.Quantiles, QuantileChange{Quantile: name, Verdict: VerdictInsufficient})
		}
		fillQuantileValues(&e)
		return e
	}
	judgeQuantiles(&e, sorted, gamma, cfg)
	// The centre: Mann-Whitney on log latencies (the shift is then a ratio); a floor keeps 0 ms
	// finite.
	logs := func(s []float32) []float64 {
		out := make([]float64, len(s))
		for i, v := range s {
			out[i] = math.Log(math.Max(float64(v), 0.001))
		}
		return out
	}
	mw := stats.MannWhitneySorted(logs(sorted[before]), logs(sorted[after]), 1-cfg.Alpha)
	e.Centre.PValue = mw.P
	e.Centre.ShiftPct = round1((math.Exp(mw.Shift) - 1) * 100)
	if mw.OK {
		e.Centre.CIPct = &[2]float64{round1((math.Exp(mw.Lo) - 1) * 100), round1((math.Exp(mw.Hi) - 1) * 100)}
	}
	return e
}

func fillQuantileValues(e *ValidateEndpoint) {
	b := [4]float64{e.Before.Quantiles.P50, e.Before.Quantiles.P90, e.Before.Quantiles.P95, e.Before.Quantiles.P99}
	a := [4]float64{e.After.Quantiles.P50, e.After.Quantiles.P90, e.After.Quantiles.P95, e.After.Quantiles.P99}
	for i := range e.Quantiles {
		q := &e.Quantiles[i]
		q.BeforeMS, q.AfterMS = b[i], a[i]
		if e.Before.Latencies > 0 && e.After.Latencies > 0 {
			q.DeltaPct = pct(b[i], a[i])
		}
	}
}

// judgeQuantiles gives each quantile its interval and verdict. Each window's order-statistic
// interval at gamma/2 makes the box of ratios cover the true ratio with probability at least
// 1-gamma (the windows are independent: (1-gamma/2)^2 >= 1-gamma).
func judgeQuantiles(e *ValidateEndpoint, sorted [2][]float32, gamma float64, cfg ValidateConfig) {
	n := min(len(sorted[before]), len(sorted[after]))
	thr := cfg.Threshold * 100
	e.Quantiles = make([]QuantileChange, 4)
	for i := range e.Quantiles {
		e.Quantiles[i].Quantile = quantileNames[i]
	}
	fillQuantileValues(e)
	for i, q := range quantileLevels {
		qc := &e.Quantiles[i]
		if n < MinPairsFor(q, cfg.MinExecutions) {
			qc.Verdict = VerdictInsufficient
			continue
		}
		cb, ca := stats.QuantileCI(sorted[before], q, gamma/2), stats.QuantileCI(sorted[after], q, gamma/2)
		if !cb.OK || !ca.OK || cb.Lo <= 0 {
			qc.Verdict = VerdictInsufficient
			continue
		}
		lo, hi := (ca.Lo/cb.Hi-1)*100, (ca.Hi/cb.Lo-1)*100
		qc.CIPct = &[2]float64{round1(lo), round1(hi)}
		big := math.Abs(qc.AfterMS-qc.BeforeMS) >= cfg.MinDeltaMS
		switch {
		case lo > 0 && qc.DeltaPct >= thr && big:
			qc.Verdict = VerdictRegression
			e.RegressedAt = append(e.RegressedAt, qc.Quantile)
		case hi < 0 && qc.DeltaPct <= -thr && big:
			qc.Verdict = VerdictImprovement
			e.ImprovedAt = append(e.ImprovedAt, qc.Quantile)
		default:
			qc.Verdict = VerdictSame
		}
	}
}

// judgeCentre adds the centre's verdict (after Benjamini-Hochberg) and sets the overall one: a
// regression at any quantile or at the centre makes the endpoint a regression, whatever
// improved.
func judgeCentre(e *ValidateEndpoint, cfg ValidateConfig) {
	thr := cfg.Threshold * 100
	big := math.Abs(e.After.Quantiles.P50-e.Before.Quantiles.P50) >= cfg.MinDeltaMS
	if e.Centre.PAdjusted < cfg.Alpha && big {
		switch {
		case e.Centre.ShiftPct >= thr:
			e.RegressedAt = append(e.RegressedAt, "centre")
		case e.Centre.ShiftPct <= -thr:
			e.ImprovedAt = append(e.ImprovedAt, "centre")
		}
	}
	switch {
	case len(e.RegressedAt) > 0:
		e.Verdict = VerdictRegression
		e.Mixed = len(e.ImprovedAt) > 0
	case len(e.ImprovedAt) > 0:
		e.Verdict = VerdictImprovement
	default:
		e.Verdict = VerdictSame
	}
}

func trafficChange(b, a SideStats, rep *ValidateReport, cfg ValidateConfig) TrafficChange {
	t := TrafficChange{BeforePerHour: b.PerHour, AfterPerHour: a.PerHour}
	if rep.Before.Executions > 0 {
		t.ShareBeforePct = round1(float64(b.Executions) / float64(rep.Before.Executions) * 100)
	}
	if rep.After.Executions > 0 {
		t.ShareAfterPct = round1(float64(a.Executions) / float64(rep.After.Executions) * 100)
	}
	// The share of the window's executions, not the rate: when all traffic grows alike, every
	// endpoint's rate moves and the report's warning about the total says so once.
	if max(b.Executions, a.Executions) >= int64(cfg.MinExecutions) && rep.Before.Executions > 0 && rep.After.Executions > 0 {
		r := (float64(a.Executions) + 0.5) / float64(rep.After.Executions) / ((float64(b.Executions) + 0.5) / float64(rep.Before.Executions))
		t.Shifted = r >= cfg.TrafficFactor || r <= 1/cfg.TrafficFactor
	}
	return t
}

// errorChange compares the error kinds and rates of the two windows. The rate test is a
// two-proportion z-test with continuity correction; the caller decides what is significant.
func errorChange(g [2]*sideAcc) ErrorChange {
	ec := ErrorChange{New: []ErrorKindSet{}, Existing: []ErrorKindSet{}, Resolved: []ErrorKindSet{}, PValue: 1}
	b, a := g[before], g[after]
	if b.execs > 0 {
		ec.BeforeRatePct = round3(float64(b.fails) / float64(b.execs) * 100)
	}
	if a.execs > 0 {
		ec.AfterRatePct = round3(float64(a.fails) / float64(a.execs) * 100)
	}
	ec.PValue = twoProportionP(b.fails, b.execs, a.fails, a.execs)
	keys := map[failKey]bool{}
	for k := range b.failures {
		keys[k] = true
	}
	for k := range a.failures {
		keys[k] = true
	}
	for k := range keys {
		s := ErrorKindSet{ErrorCode: int(k.code), Error: k.msg}
		fb, fa := b.failures[k], a.failures[k]
		if fb != nil {
			s.Before, s.Example = fb.Count, fb.Example
		}
		if fa != nil {
			s.After, s.Example = fa.Count, fa.Example // an example after the change, when there is one
		}
		switch {
		case fb == nil:
			ec.New = append(ec.New, s)
		case fa == nil:
			ec.Resolved = append(ec.Resolved, s)
		default:
			ec.Existing = append(ec.Existing, s)
		}
	}
	for _, l := range [][]ErrorKindSet{ec.New, ec.Existing, ec.Resolved} {
		slices.SortFunc(l, func(x, y ErrorKindSet) int {
			return cmp.Or(cmp.Compare(y.After+y.Before, x.After+x.Before), cmp.Compare(x.ErrorCode, y.ErrorCode), strings.Compare(x.Error, y.Error))
		})
	}
	return ec
}

// twoProportionP is the two-sided p-value of a pooled two-proportion z-test with continuity
// correction (1 when either window is empty or nothing failed).
func twoProportionP(x1, n1, x2, n2 int64) float64 {
	if n1 == 0 || n2 == 0 || x1+x2 == 0 {
		return 1
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	p := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 1
	}
	cc := 0.5 * (1/float64(n1) + 1/float64(n2))
	z := math.Max(0, math.Abs(p2-p1)-cc) / se
	return math.Min(1, 2*(1-stats.NormalCDF(z)))
}

// resultChange compares response sizes and, where the logs carry them, result hashes of the
// same SQL text. An endpoint's results changed when most of its answers collapse to error size
// after the change but did not before, or when most texts seen in both windows (at least 5)
// return another result set.
func resultChange(g [2]*sideAcc) ResultChange {
	b, a := g[before], g[after]
	rc := ResultChange{ErrorSizedBefore: b.errSized, ErrorSizedAfter: a.errSized}
	if len(b.bytes) > 0 {
		rc.BeforeMedianBytes = int64(median32(b.bytes))
	}
	if len(a.bytes) > 0 {
		rc.AfterMedianBytes = int64(median32(a.bytes))
	}
	for text, sb := range b.results {
		if sa, ok := a.results[text]; ok {
			rc.HashCompared++
			if sa.hash != sb.hash {
				rc.HashChanged++
			}
		}
	}
	collapsed := len(a.bytes) > 0 && len(b.bytes) > 0 &&
		a.errSized*2 > int64(len(a.bytes)) && b.errSized*10 < int64(len(b.bytes)) && rc.BeforeMedianBytes > 2*errorPacketMax
	rc.Changed = collapsed || rc.HashCompared >= 5 && rc.HashChanged*2 > rc.HashCompared
	return rc
}

// rankValidate orders endpoints: regressions, then endpoints with worse errors or changed
// results, improvements, no change, too little data; within a class by the size of the
// impact per day, then by name and target.
func rankValidate(eps []ValidateEndpoint) {
	class := func(e *ValidateEndpoint) int {
		switch {
		case e.Verdict == VerdictRegression:
			return 0
		case e.Errors.Worse || e.Results.Changed:
			return 1
		case e.Verdict == VerdictImprovement:
			return 2
		case e.Verdict == VerdictSame:
			return 3
		}
		return 4
	}
	slices.SortStableFunc(eps, func(x, y ValidateEndpoint) int {
		return cmp.Or(cmp.Compare(class(&x), class(&y)), cmp.Compare(math.Abs(y.ImpactMS), math.Abs(x.ImpactMS)),
			cmp.Compare(y.Before.Executions+y.After.Executions, x.Before.Executions+x.After.Executions),
			strings.Compare(x.Endpoint, y.Endpoint), strings.Compare(x.Target, y.Target))
	})
}

// drillLevels are the quantiles of the drill-down's curves.
var drillLevels = []float64{0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99, 0.999}

func validateDrill(rep *ValidateReport, name string) *ValidateDrill {
	d := &ValidateDrill{Endpoint: name, Curves: []LatencyCurve{}, Errors: []ErrorKindSet{}}
	for i := range rep.Endpoints {
		e := &rep.Endpoints[i]
		if e.Endpoint != name {
			continue
		}
		c := LatencyCurve{Target: e.Target}
		for _, q := range drillLevels {
			p := CurvePoint{Quantile: q}
			if s := e.sorted[before]; len(s) > 0 {
				v := round3(stats.Quantile(s, q))
				p.BeforeMS = &v
			}
			if s := e.sorted[after]; len(s) > 0 {
				v := round3(stats.Quantile(s, q))
				p.AfterMS = &v
			}
			c.Points = append(c.Points, p)
		}
		d.Curves = append(d.Curves, c)
		for _, l := range [][]ErrorKindSet{e.Errors.New, e.Errors.Existing, e.Errors.Resolved} {
			d.Errors = append(d.Errors, l...)
		}
	}
	if len(d.Curves) == 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("endpoint %q has no executions in these logs", name))
	}
	return d
}
