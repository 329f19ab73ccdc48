package analyze

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/analyze/profile"
	"github.com/srctl/srctl/lakehouse"
)

// metricSpec is one headline metric the why column compares.
type metricSpec struct {
	name, unit string
	get        func(*lakehouse.ProfileMetrics) int64
	floor      int64 // medians below this on both sides are noise
}

var whyMetrics = []metricSpec{
	{"cpu", "ns", func(m *lakehouse.ProfileMetrics) int64 { return m.CPUNS }, 1e6},
	{"scan time", "ns", func(m *lakehouse.ProfileMetrics) int64 { return m.ScanNS }, 1e6},
	{"scanned", "bytes", func(m *lakehouse.ProfileMetrics) int64 { return m.ScanBytes }, 1 << 20},
	{"scan raw rows", "rows", func(m *lakehouse.ProfileMetrics) int64 { return m.ScanRawRows }, 1000},
	{"scan rows", "rows", func(m *lakehouse.ProfileMetrics) int64 { return m.ScanRows }, 1000},
	{"scan remote", "bytes", func(m *lakehouse.ProfileMetrics) int64 { return m.ScanRemoteBytes }, 1 << 20},
	{"peak memory per node", "bytes", func(m *lakehouse.ProfileMetrics) int64 { return m.PeakMemoryPerNodeBytes }, 1 << 20},
	{"network time", "ns", func(m *lakehouse.ProfileMetrics) int64 { return m.NetworkNS }, 1e6},
	{"planner", "ns", func(m *lakehouse.ProfileMetrics) int64 { return m.PlannerNS }, 1e6},
	{"spill", "bytes", func(m *lakehouse.ProfileMetrics) int64 { return m.SpillBytes }, 1 << 20},
	{"schedule", "ns", func(m *lakehouse.ProfileMetrics) int64 { return m.PeakScheduleNS }, 1e6},
}

// whyMinRecords is how many records each side needs before its medians are compared.
const whyMinRecords = 3

// whyMinRatio is the smallest move (either way) the why column names.
const whyMinRatio = 1.25

type sideSamples struct {
	n       int
	metrics [][]int64        // per whyMetrics entry
	opNS    map[string]int64 // summed operator time by operator name
}

func newSide() *sideSamples {
	return &sideSamples{metrics: make([][]int64, len(whyMetrics)), opNS: map[string]int64{}}
}

func (s *sideSamples) add(m *lakehouse.ProfileMetrics) {
	s.n++
	for i, spec := range whyMetrics {
		s.metrics[i] = append(s.metrics[i], spec.get(m))
	}
	for _, op := range m.TopOperators {
		s.opNS[op.Name] += op.NS
	}
}

// attachProfiles reads profile records of both clusters and adds to rep, per endpoint, the
// profile metrics and operators that moved (Why) and the queries that FAILED on the shadow
// cluster while the primary FINISHED the same text (shadow-only failures the proxy cannot see).
// Records join the logs by endpoint within the logs' time range; the drill-down's
// representative pair joins by query hash, cluster and time.
func attachProfiles(ctx context.Context, rep *Report, src ProfileSource, cfg Config) error {
	counts := &ProfileJoinCounts{}
	rep.Profiles = counts
	known := map[string]int{}
	for i := range rep.Endpoints {
		known[rep.Endpoints[i].Endpoint] = i
	}
	lo, hi := time.Unix(0, rep.firstNS).Add(-cfg.ProfileSlack), time.Unix(0, rep.lastNS).Add(cfg.ProfileSlack)
	sides := map[string]*[2]*sideSamples{}
	primaryDone := map[string]bool{} // query_hash -> a FINISHED primary record exists
	type failed struct {
		group, hash, msg, id string
		ts                   int64 // query start, to pick the earliest as the example
	}
	var shadowFailed []failed
	// Drill-down: records of the drilled endpoint by hash, per side.
	var drillRecs map[string]*[2][]lakehouse.ProfileRecord
	if rep.Drill != nil {
		drillRecs = map[string]*[2][]lakehouse.ProfileRecord{}
	}
	classify := profileClassifier(cfg)

	err := src.ReadProfiles(ctx, func(recp *lakehouse.ProfileRecord, err error) error {
		side, ok := counts.sort(recp, err, &rep.Warnings, cfg.PrimaryCluster, cfg.ShadowCluster)
		if !ok {
			return nil
		}
		rec := *recp
		if st := rec.PartitionTime(); rep.firstNS == 0 || st.Before(lo) || st.After(hi) {
			counts.OutsideWindow++
			return nil
		}
		group := classify(&rec)
		if _, ok := known[group]; !ok {
			return nil
		}
		if side == 0 {
			counts.PrimaryMatched++
			if rec.State == "FINISHED" && rec.QueryHash != "" {
				primaryDone[rec.QueryHash] = true
			}
		} else {
			counts.ShadowMatched++
			if rec.State == "FAILED" {
				msg := rec.ErrorMessage
				if msg == "" {
					msg = "(FAILED without error text)"
				}
				if rep.loggedFailure(rec.QueryHash, rec.PartitionTime()) {
					counts.FailedAlsoLogged++
				} else {
					shadowFailed = append(shadowFailed, failed{group, rec.QueryHash, msg, rec.QueryID, rec.PartitionTime().UnixNano()})
				}
			}
		}
		if drillRecs != nil && group == rep.Drill.Endpoint && rec.QueryHash != "" {
			dr := drillRecs[rec.QueryHash]
			if dr == nil {
				dr = &[2][]lakehouse.ProfileRecord{}
				drillRecs[rec.QueryHash] = dr
			}
			dr[side] = append(dr[side], rec)
		}
		m := finishedMetrics(&rec)
		if m == nil {
			return nil
		}
		s := sides[group]
		if s == nil {
			s = &[2]*sideSamples{newSide(), newSide()}
			sides[group] = s
		}
		s[side].add(m)
		return nil
	})
	if err != nil {
		return err
	}

	// Shadow FAILED where the primary FINISHED the same text.
	agg := map[failKey]*FailureGroup{}
	for _, f := range shadowFailed {
		if !primaryDone[f.hash] {
			continue
		}
		k := failKey{kind: f.group + "\x00" + FailShadowProfile, msg: f.msg}
		g := agg[k]
		if g == nil {
			g = &FailureGroup{Endpoint: f.group, Kind: FailShadowProfile, Error: f.msg}
			agg[k] = g
		}
		g.offer(f.ts, f.id)
		g.Count++
		e := &rep.Endpoints[known[f.group]]
		e.ShadowOnlyFailures++
		rep.Summary.ShadowOnlyFailures++
	}
	for _, g := range agg {
		rep.Failures = append(rep.Failures, *g)
	}
	sortFailures(rep.Failures)

	// Only changed endpoints get a why: with a sample of profiles, medians of unchanged endpoints
	// move by chance and would send readers after noise.
	for group, s := range sides {
		if e := &rep.Endpoints[known[group]]; e.Verdict == VerdictRegression || e.Verdict == VerdictImprovement {
			e.Why = append(e.Why, why(s[0], s[1])...)
		}
	}
	if rep.Drill != nil {
		rep.Drill.Profile = representative(rep.Drill, drillRecs, cfg)
	}
	if counts.PrimaryMatched+counts.ShadowMatched == 0 && counts.Records > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("profiles: none of %d records matched an endpoint of the logs for clusters %q/%q in the logs' time range (%d other clusters, %d outside the range)",
			counts.Records, cfg.PrimaryCluster, cfg.ShadowCluster, counts.OtherClusters, counts.OutsideWindow))
	}
	return nil
}

// sort takes one record of a profile read: an object that could not be read becomes a warning,
// a record that could not be decoded a bad line, a record of another cluster is counted; ok is
// false for those. side is 0 for the primary's cluster, 1 for the shadow's.
func (counts *ProfileJoinCounts) sort(rec *lakehouse.ProfileRecord, err error, warnings *[]string, primary, shadow string) (side int, ok bool) {
	var oe *lakehouse.ObjectError
	switch {
	case errors.As(err, &oe):
		*warnings = append(*warnings, "profiles: "+oe.Error())
		return 0, false
	case err != nil:
		counts.BadLines++
		return 0, false
	}
	counts.Records++
	switch rec.Cluster {
	case primary:
		return 0, true
	case shadow:
		return 1, true
	}
	counts.OtherClusters++
	return 0, false
}

// finishedMetrics are the headline metrics of a FINISHED query's record: the collector's, or
// read from the profile text of records written without them; nil when there are none.
func finishedMetrics(rec *lakehouse.ProfileRecord) *lakehouse.ProfileMetrics {
	if rec.State != "FINISHED" {
		return nil
	}
	if rec.Metrics == nil && rec.ProfileText != "" {
		h := profile.ScanHeadlines(rec.ProfileText)
		return &h
	}
	return rec.Metrics
}

// profileClassifier names a record's group the way the logs' rows are named.
func profileClassifier(cfg Config) func(*lakehouse.ProfileRecord) string {
	return func(rec *lakehouse.ProfileRecord) string {
		switch cfg.GroupBy {
		case GroupByQueryHash:
			return rec.QueryHash
		case GroupByFingerprint:
			return "fp:" + fingerprint.ID(fingerprint.Fingerprint(rec.SQLText))
		}
		if ep, ok := fingerprint.TrailingEndpoint(rec.SQLText); ok {
			return strings.Clone(ep)
		}
		return cfg.Rules.Classify(rec.SQLText).Endpoint
	}
}

// why names the metrics and the operator whose medians moved most between the clusters.
func why(p, s *sideSamples) []string {
	if p.n < whyMinRecords || s.n < whyMinRecords {
		return nil
	}
	type moved struct {
		text  string
		score float64
	}
	var ms []moved
	for i, spec := range whyMetrics {
		a, b := median64(p.metrics[i]), median64(s.metrics[i])
		if max(a, b) < spec.floor {
			continue
		}
		r := float64(max(b, 1)) / float64(max(a, 1))
		if r < whyMinRatio && r > 1/whyMinRatio {
			continue
		}
		ms = append(ms, moved{fmt.Sprintf("%s x%s (%s → %s)", spec.name, trimFloat(r), profile.FormatMetric(spec.unit, a), profile.FormatMetric(spec.unit, b)), math.Abs(math.Log(r))})
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].score > ms[j].score })
	var out []string
	for _, m := range ms[:min(3, len(ms))] {
		out = append(out, m.text)
	}
	// The operator whose mean time per query moved most (in absolute time).
	best, bestDelta := "", 0.0
	var bestA, bestB float64
	names := make([]string, 0, len(p.opNS)+len(s.opNS))
	for n := range p.opNS {
		names = append(names, n)
	}
	for n := range s.opNS {
		if _, ok := p.opNS[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		a, b := float64(p.opNS[n])/float64(p.n), float64(s.opNS[n])/float64(s.n)
		r := math.Max(b, 1) / math.Max(a, 1)
		if d := math.Abs(b - a); d > bestDelta && (r >= whyMinRatio || r <= 1/whyMinRatio) && math.Max(a, b) >= 1e6 {
			best, bestDelta, bestA, bestB = n, d, a, b
		}
	}
	if best != "" {
		out = append(out, fmt.Sprintf("%s time x%s (%s → %s per query)", best, trimFloat(math.Max(bestB, 1)/math.Max(bestA, 1)),
			profile.FormatNS(int64(bestA)), profile.FormatNS(int64(bestB))))
	}
	if len(out) > 0 {
		out = append(out, fmt.Sprintf("profiles %d/%d", p.n, s.n))
	}
	return out
}

// representative compares the profiles of the drilled pair closest to the median change that
// has a profile on both clusters (same query hash, start within the pair's time).
func representative(d *Drill, recs map[string]*[2][]lakehouse.ProfileRecord, cfg Config) *ProfileCompare {
	pairs := slices.Clone(d.pairs)
	sort.SliceStable(pairs, func(i, j int) bool { return ratioOf(pairs[i]) < ratioOf(pairs[j]) })
	mid := len(pairs) / 2
	// Walk outwards from the median.
	for k := 0; k < len(pairs); k++ {
		i := mid + (k+1)/2*(1-2*(k%2))
		if i < 0 || i >= len(pairs) {
			continue
		}
		pr := pairs[i]
		if !pr.hasHash {
			continue
		}
		rs := recs[fmt.Sprintf("%x", pr.hash)]
		if rs == nil {
			continue
		}
		at := time.Unix(0, pr.ts)
		a, aok := nearest(rs[0], at, cfg.ProfileSlack)
		b, bok := nearest(rs[1], at, cfg.ProfileSlack)
		if !aok || !bok || a.ProfileText == "" || b.ProfileText == "" {
			continue
		}
		diff := profile.Compare(profile.Parse(a.ProfileText), profile.Parse(b.ProfileText))
		pc := &ProfileCompare{QueryID: pr.qid, PrimaryProfileID: a.QueryID, ShadowProfileID: b.QueryID}
		pc.Lines = append(pc.Lines, fmt.Sprintf("pair: primary %s ms, shadow %s ms (%s)", fmtMS(float64(pr.p)), fmtMS(float64(pr.s)), fmtPct(pct(float64(pr.p), float64(pr.s)))))
		ms := slices.Clone(diff.Metrics)
		sort.SliceStable(ms, func(i, j int) bool { return moveScore(ms[i]) > moveScore(ms[j]) })
		for _, m := range ms {
			if m.Ratio == 1 || len(pc.Lines) > 7 {
				continue
			}
			pc.Lines = append(pc.Lines, fmt.Sprintf("%-20s %12s → %-12s x%s", m.Name, profile.FormatMetric(m.Unit, m.A), profile.FormatMetric(m.Unit, m.B), trimFloat(math.Min(m.Ratio, 1e6))))
		}
		for _, op := range diff.Operators[:min(3, len(diff.Operators))] {
			if op.Reading != "" {
				pc.Lines = append(pc.Lines, op.Reading)
			}
		}
		return pc
	}
	return &ProfileCompare{Lines: []string{"no pair of this endpoint has a collected profile on both clusters (records join by query_hash, cluster and time)"}}
}

func moveScore(m profile.MetricDelta) float64 {
	if m.Ratio <= 0 || math.IsInf(m.Ratio, 0) {
		return 100
	}
	return math.Abs(math.Log(m.Ratio))
}

// nearest picks the record whose start is closest to at, within slack (and the query's duration).
func nearest(recs []lakehouse.ProfileRecord, at time.Time, slack time.Duration) (lakehouse.ProfileRecord, bool) {
	best, bestD := -1, time.Duration(math.MaxInt64)
	for i, r := range recs {
		d := at.Sub(r.StartTime)
		if d < 0 {
			d = -d
		}
		if d <= slack && d < bestD {
			best, bestD = i, d
		}
	}
	if best < 0 {
		return lakehouse.ProfileRecord{}, false
	}
	return recs[best], true
}

func median64(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func trimFloat(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0f", r)
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", r), "0"), ".")
}

// FailureMatchWindow is how far apart a logged shadow failure and a FAILED shadow profile of the
// same text may start and still be taken for one execution: the proxy stamps its row when the
// shadow answers, the FE its record when the query starts, on clocks that may drift.
const FailureMatchWindow = 5 * time.Minute

// loggedFailure reports whether the logs counted a shadow-only failure of the text with this
// query hash (hex) near t.
func (rep *Report) loggedFailure(hexHash string, t time.Time) bool {
	var h [16]byte
	if len(rep.loggedShadowFails) == 0 || !decodeHex16([]byte(hexHash), &h) {
		return false
	}
	ns := t.UnixNano()
	for _, at := range rep.loggedShadowFails[h] {
		if d := at - ns; d <= int64(FailureMatchWindow) && d >= -int64(FailureMatchWindow) {
			return true
		}
	}
	return false
}
