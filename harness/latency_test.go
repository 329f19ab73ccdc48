package harness

import (
	"math"
	"testing"
	"time"

	"github.com/srctl/srctl/analyze/profile"
)

func samples(base float64, spread ...float64) SideLatency {
	s := SideLatency{}
	for _, d := range spread {
		s.Samples = append(s.Samples, base+d)
	}
	return s
}

var jitter = []float64{0.1, -0.2, 0.3, 0, -0.1, 0.2, -0.3, 0.15, -0.05, 0.05}

func TestCompareLatencyVerdicts(t *testing.T) {
	// 20 ms vs 30 ms: slower, ratio about 1.5, interval around it.
	l := compareLatency(samples(20, jitter...), samples(30, jitter...), 0.05, 0.05, 500*time.Microsecond)
	if l.Verdict != "slower" || math.Abs(l.Ratio-1.5) > 0.02 || l.P >= 0.001 || !(l.RatioLo <= l.Ratio && l.Ratio <= l.RatioHi) {
		t.Errorf("20 vs 30 ms: %+v", l)
	}
	// Significant but within the threshold: ~.
	l = compareLatency(samples(20, jitter...), samples(20.6, jitter...), 0.05, 0.05, 0)
	if l.Verdict != "~" || l.P >= 0.05 {
		t.Errorf("+3%% with a 5%% threshold: %+v", l)
	}
	// Significant and beyond the ratio threshold, but 0.1 ms: under the floor.
	l = compareLatency(samples(0.3, scaled(0.01)...), samples(0.4, scaled(0.01)...), 0.05, 0.05, 500*time.Microsecond)
	if l.Verdict != "~" || !l.BelowFloor {
		t.Errorf("0.3 vs 0.4 ms with a 0.5 ms floor: %+v", l)
	}
	if v := latencyVerdict(&l); v != "~ (moved 0.100 ms, under the 0.500 ms floor)" {
		t.Errorf("verdict text %q", v)
	}
	// Faster.
	l = compareLatency(samples(30, jitter...), samples(20, jitter...), 0.05, 0.05, 0)
	if l.Verdict != "faster" {
		t.Errorf("30 vs 20 ms: %+v", l)
	}
	// Too few samples (every candidate run failed): no verdict.
	l = compareLatency(samples(20, jitter...), SideLatency{}, 0.05, 0.05, 0)
	if l.Verdict != "~" || l.P != 1 {
		t.Errorf("no candidate samples: %+v", l)
	}
	// A suspected change counts only once a confirmation repeats it.
	l = compareLatency(samples(20, jitter...), samples(30, jitter...), 0.05, 0.05, 0)
	if l.Regressed() {
		t.Error("regressed without a confirmation set")
	}
	conf := compareLatency(samples(20, jitter...), samples(20, jitter...), 0.05, 0.05, 0)
	l.Confirmation = &conf
	if l.Regressed() || latencyVerdict(&l)[0] != '~' {
		t.Errorf("an unconfirmed change: %s", latencyVerdict(&l))
	}
}

func scaled(f float64) []float64 {
	out := make([]float64, len(jitter))
	for i, j := range jitter {
		out[i] = j * f
	}
	return out
}

func TestSummariseCensorsTimeouts(t *testing.T) {
	runs := []run{{d: 10 * time.Millisecond}, {d: 12 * time.Millisecond}, {timedOut: true, err: ErrTimeout}, {err: errTest}}
	s := summarise(runs, time.Second)
	if s.Runs != 4 || s.TimedOut != 1 || s.Failed != 1 || len(s.Samples) != 3 || s.Samples[2] != 1000 || s.MedianMS != 12 {
		t.Errorf("summary %+v", s)
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errTest = testError("boom")

// TestResourceThresholds: CPU fails past the ratio only when it also grew by more than the
// floor; memory by ratio alone.
func TestResourceThresholds(t *testing.T) {
	th := Thresholds{MaxCPUIncrease: 0.25, MaxMemIncrease: 0.25}
	p := func(cpuA, cpuB, memA, memB int64) *Profiles {
		return &Profiles{Runs: 3, MinCPUDeltaNS: 500_000, Metrics: profile.CompareHeadlines(
			profile.Headline{CPUNS: cpuA, PeakMemoryPerNodeBytes: memA}, profile.Headline{CPUNS: cpuB, PeakMemoryPerNodeBytes: memB})}
	}
	for _, tc := range []struct {
		p    *Profiles
		want int
	}{
		{p(1_420_000, 1_810_000, 1<<20, 1<<20), 0}, // +27% but 0.39 ms: noise
		{p(10_000_000, 20_000_000, 1<<20, 1<<20), 1},
		{p(10_000_000, 11_000_000, 1<<20, 2<<20), 1},
		{p(10_000_000, 20_000_000, 1<<20, 2<<20), 2},
		{p(0, 0, 0, 0), 0},
	} {
		if got := tc.p.Exceeded(th); len(got) != tc.want {
			t.Errorf("%+v: %q, want %d reasons", tc.p.Metrics[:2], got, tc.want)
		}
	}
	if got := p(10_000_000, 20_000_000, 1<<20, 2<<20).Exceeded(Thresholds{}); len(got) != 0 {
		t.Errorf("thresholds of 0 check nothing: %q", got)
	}
}
