package harness

import (
	"math"
	"math/rand/v2"
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

// loadedServerTimes draws n run times in ms the way a loaded 2-core machine served them in an
// A/A recording (300 sets of 10+10 against MariaDB beside two busy loops): most runs near the
// query's own time, about a third delayed by a wait for a core of up to three times as long.
func loadedServerTimes(r *rand.Rand, n int, scale float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		t := 3.3 + r.NormFloat64()*0.15
		if r.Float64() < 0.3 {
			t += r.Float64() * 10
		}
		out[i] = t * scale
	}
	return out
}

// twoStage is the verdict compare reaches: a suspicion from the first set stands only when a
// second set repeats it.
func twoStage(r *rand.Rand, scale float64) *Latency {
	cfg := DefaultConfig()
	side := func(s float64) SideLatency { return SideLatency{Samples: loadedServerTimes(r, cfg.Iterations, s)} }
	l := compareLatency(side(1), side(scale), cfg.Alpha, cfg.Threshold, cfg.MinLatencyDelta)
	if l.Verdict != "~" {
		conf := compareLatency(side(1), side(scale), cfg.Alpha, cfg.Threshold, cfg.MinLatencyDelta)
		l.Confirmation = &conf
	}
	return &l
}

// TestTwoStageFalseRegressionRate pins the statistics behind "a false regression fails an
// unrelated PR now and then": on noisy A/A samples the first set suspects about alpha of the
// time, the confirmation repeats it about alpha/2 of those times, so a case fails falsely
// about once in a thousand; and a real doubling on the same noise is still caught more often
// than not with the default 10 runs a side (more --iterations buy more power).
func TestTwoStageFalseRegressionRate(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const sets = 5000
	suspected, regressed := 0, 0
	for range sets {
		l := twoStage(r, 1)
		if l.Verdict != "~" {
			suspected++
		}
		if l.Regressed() {
			regressed++
		}
	}
	if rate := float64(suspected) / sets; rate > 0.06 {
		t.Errorf("first set suspects %.2f%% of A/A sets, want at most alpha (5%%) plus sampling error", 100*rate)
	}
	if rate := float64(regressed) / sets; rate > 0.003 {
		t.Errorf("%.3f%% of A/A cases fail as regressions, want about alpha²/2 (0.125%%)", 100*rate)
	}
	caught := 0
	for range 1000 {
		if twoStage(r, 2).Regressed() {
			caught++
		}
	}
	if power := float64(caught) / 1000; power < 0.5 {
		t.Errorf("a real doubling on this noise is caught %.0f%% of the time, want at least half", 100*power)
	}
	t.Logf("A/A: suspected %d, failed %d of %d; a doubling caught %d of 1000", suspected, regressed, sets, caught)
}
