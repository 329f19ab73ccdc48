package harness

import (
	"math"
	"slices"
	"time"

	"github.com/srctl/srctl/analyze/stats"
)

// SideLatency summarises one side's timed runs.
type SideLatency struct {
	Runs     int       `json:"runs"`
	Failed   int       `json:"failed"`    // errors other than timeouts
	TimedOut int       `json:"timed_out"` // killed after --timeout; counted at the timeout
	MedianMS float64   `json:"median_ms"`
	P90MS    float64   `json:"p90_ms"`
	MinMS    float64   `json:"min_ms"`
	Samples  []float64 `json:"samples_ms"`
}

// Latency compares the two sides' timed runs.
type Latency struct {
	Baseline  SideLatency `json:"baseline"`
	Candidate SideLatency `json:"candidate"`
	// Ratio is candidate/baseline typical time: the Hodges-Lehmann shift of the log times,
	// exponentiated, with Moses' 95% interval [RatioLo, RatioHi] (0 when too few runs).
	Ratio   float64 `json:"ratio"`
	RatioLo float64 `json:"ratio_lo"`
	RatioHi float64 `json:"ratio_hi"`
	P       float64 `json:"p_value"` // Mann-Whitney, two-sided
	// DeltaMS is the shift in milliseconds (Hodges-Lehmann of the raw times).
	DeltaMS float64 `json:"delta_ms"`
	// Verdict is "~" (no significant difference beyond the threshold), "slower" or "faster".
	Verdict string `json:"verdict"`
	// BelowFloor: significant and beyond the threshold, but the typical run moved by less than
	// --min-latency-delta, which is not a regression.
	BelowFloor bool    `json:"below_floor,omitempty"`
	MinDeltaMS float64 `json:"min_delta_ms"`
	// Confirmation is the second set of runs, on new connections, that a suspected change must
	// repeat to count; nil when none was needed.
	Confirmation *Latency `json:"confirmation,omitempty"`
}

// Regressed reports a latency regression that the confirmation set repeated.
func (l *Latency) Regressed() bool {
	return l != nil && l.Verdict == "slower" && l.Confirmation != nil && l.Confirmation.Verdict == "slower"
}

// Improved reports a confirmed improvement.
func (l *Latency) Improved() bool {
	return l != nil && l.Verdict == "faster" && l.Confirmation != nil && l.Confirmation.Verdict == "faster"
}

// run is one timed execution.
type run struct {
	d        time.Duration
	timedOut bool
	err      error
}

func summarise(runs []run, timeout time.Duration) SideLatency {
	s := SideLatency{Runs: len(runs)}
	for _, r := range runs {
		switch {
		case r.timedOut:
			// Censored at the timeout: the run took at least that long, which a rank test
			// can use as it is (it is larger than every completed run).
			s.TimedOut++
			s.Samples = append(s.Samples, ms(timeout))
		case r.err != nil:
			s.Failed++
		default:
			s.Samples = append(s.Samples, ms(r.d))
		}
	}
	sorted := slices.Clone(s.Samples)
	slices.Sort(sorted)
	if len(sorted) > 0 {
		s.MinMS = sorted[0]
		s.MedianMS = quantile(sorted, 0.5)
		s.P90MS = quantile(sorted, 0.9)
	}
	return s
}

// quantile of sorted float64s, interpolated as stats.Quantile does.
func quantile(sorted []float64, q float64) float64 {
	f := make([]float32, len(sorted))
	for i, v := range sorted {
		f[i] = float32(v)
	}
	return stats.Quantile(f, q)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// compareLatency tests the two samples. A change is "slower" or "faster" only when it is
// significant at alpha, beyond threshold as a ratio, and at least minDelta in absolute terms.
func compareLatency(base, cand SideLatency, alpha, threshold float64, minDelta time.Duration) Latency {
	l := Latency{Baseline: base, Candidate: cand, Verdict: "~", P: 1, Ratio: 1, MinDeltaMS: ms(minDelta)}
	if len(base.Samples) < 2 || len(cand.Samples) < 2 {
		return l
	}
	logOf := func(xs []float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = math.Log(math.Max(x, 1e-6))
		}
		return out
	}
	logs := stats.MannWhitney(logOf(base.Samples), logOf(cand.Samples), 0.95)
	raw := stats.MannWhitney(base.Samples, cand.Samples, 0.95)
	l.P, l.Ratio, l.DeltaMS = logs.P, math.Exp(logs.Shift), raw.Shift
	if logs.OK {
		l.RatioLo, l.RatioHi = math.Exp(logs.Lo), math.Exp(logs.Hi)
	}
	if l.P >= alpha || math.Abs(l.Ratio-1) <= threshold {
		return l
	}
	if math.Abs(l.DeltaMS) < ms(minDelta) {
		l.BelowFloor = true
		return l
	}
	if l.Ratio > 1 {
		l.Verdict = "slower"
	} else {
		l.Verdict = "faster"
	}
	return l
}
