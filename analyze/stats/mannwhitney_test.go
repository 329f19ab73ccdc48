package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestUNullCDFByEnumeration checks the exact distribution against every arrangement of small
// samples.
func TestUNullCDFByEnumeration(t *testing.T) {
	for _, nm := range [][2]int{{1, 1}, {2, 3}, {3, 3}, {4, 5}, {6, 6}} {
		n, m := nm[0], nm[1]
		counts := make([]float64, n*m+1)
		total := 0.0
		// Every subset of n positions among n+m marks the x's; U counts (y above x) pairs.
		for mask := 0; mask < 1<<(n+m); mask++ {
			if popcount(mask) != n {
				continue
			}
			u, xs := 0, 0
			for pos := 0; pos < n+m; pos++ {
				if mask&(1<<pos) != 0 {
					xs++
				} else {
					u += xs // this y is above every x so far
				}
			}
			counts[u]++
			total++
		}
		cdf := uNullCDF(n, m)
		acc := 0.0
		for u := range counts {
			acc += counts[u]
			if math.Abs(cdf[u]-acc/total) > 1e-12 {
				t.Fatalf("n=%d m=%d: P(U<=%d) = %v, enumeration %v", n, m, u, cdf[u], acc/total)
			}
		}
	}
	if p := uNullCDF(3, 3)[0]; math.Abs(p-0.05) > 1e-12 {
		t.Errorf("P(U=0) for 3+3 = %v, want 1/20", p)
	}
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// TestMannWhitneyCalibration: with no shift, about alpha of the tests reject and the interval
// covers zero about confidence of the time; with a clear shift, the test rejects and the
// estimate is near it. Both the exact (10+10) and the approximate (60+60) paths.
func TestMannWhitneyCalibration(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{10, 60} {
		const trials = 2000
		rejected, covered := 0, 0
		for range trials {
			x, y := sample(rng, n, 0), sample(rng, n, 0)
			r := MannWhitney(x, y, 0.95)
			if r.Exact != (n == 10) {
				t.Fatalf("n=%d: exact %v", n, r.Exact)
			}
			if r.P < 0.05 {
				rejected++
			}
			if r.OK && r.Lo <= 0 && 0 <= r.Hi {
				covered++
			}
		}
		if rate := float64(rejected) / trials; rate > 0.07 {
			t.Errorf("n=%d: %.3f of A/A tests rejected at alpha 0.05", n, rate)
		}
		if cov := float64(covered) / trials; cov < 0.93 || cov > 0.98 {
			t.Errorf("n=%d: interval covered the true shift %.3f of the time, want ~0.95", n, cov)
		}
		r := MannWhitney(sample(rng, n, 0), sample(rng, n, 2), 0.95)
		if r.P > 0.01 || math.Abs(r.Shift-2) > 0.8 || !r.OK || r.Lo <= 0 {
			t.Errorf("n=%d shift 2: %+v", n, r)
		}
	}
}

func sample(rng *rand.Rand, n int, shift float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.NormFloat64() + shift
	}
	return s
}

func TestMannWhitneyTiesAndEdges(t *testing.T) {
	r := MannWhitney([]float64{1, 1, 1}, []float64{1, 1, 1}, 0.95)
	if r.P != 1 || r.Shift != 0 || r.Exact {
		t.Errorf("all tied: %+v", r)
	}
	if r := MannWhitney(nil, []float64{1}, 0.95); r.P != 1 || r.OK {
		t.Errorf("empty: %+v", r)
	}
	if r := MannWhitney([]float64{1, 2}, []float64{3, 4}, 0.95); r.OK {
		t.Errorf("2+2 cannot give a 95%% interval: %+v", r)
	}
}

// TestMannWhitneyMatchesBruteForce checks the merge and bisection against the definitions:
// U counted over all pairs, and the Hodges-Lehmann estimate and Moses' bounds read from the
// sorted list of all N*M differences, on samples with ties, negative values and both paths.
func TestMannWhitneyMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 400 {
		n, m := 1+rng.IntN(70), 1+rng.IntN(70)
		draw := func(k int) []float64 {
			s := make([]float64, k)
			for i := range s {
				if trial%2 == 0 {
					s[i] = float64(rng.IntN(9) - 4) // many ties
				} else {
					s[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(4)))
				}
			}
			return s
		}
		x, y := draw(n), draw(m)
		var diffs []float64
		u := 0.0
		for _, b := range y {
			for _, a := range x {
				diffs = append(diffs, b-a)
				if b > a {
					u++
				} else if b == a {
					u += 0.5
				}
			}
		}
		slices.Sort(diffs)
		r := MannWhitney(x, y, 0.9)
		if r.U != u {
			t.Fatalf("trial %d: U %v, brute force %v", trial, r.U, u)
		}
		med := diffs[len(diffs)/2]
		if len(diffs)%2 == 0 {
			med = (diffs[len(diffs)/2-1] + med) / 2
		}
		if r.Shift != med {
			t.Fatalf("trial %d: shift %v, brute force %v", trial, r.Shift, med)
		}
		xs, ys := slices.Clone(x), slices.Clone(y)
		slices.Sort(xs)
		slices.Sort(ys)
		for _, k := range []int{1, 1 + rng.IntN(len(diffs)), len(diffs)} {
			if got := KthDifference(xs, ys, k); got != diffs[k-1] {
				t.Fatalf("trial %d: %d-th difference %v, brute force %v", trial, k, got, diffs[k-1])
			}
		}
		if r.OK && !(slices.Contains(diffs, r.Lo) && slices.Contains(diffs, r.Hi) && r.Lo <= r.Shift && r.Shift <= r.Hi) {
			t.Fatalf("trial %d: interval [%v, %v] around %v", trial, r.Lo, r.Hi, r.Shift)
		}
	}
}

// BenchmarkMannWhitneyLarge is the size validate meets: 10^5 executions on each side.
func BenchmarkMannWhitneyLarge(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, y := sample(rng, 100_000, 0), sample(rng, 100_000, 0.1)
	slices.Sort(x)
	slices.Sort(y)
	for b.Loop() {
		MannWhitneySorted(x, y, 0.95)
	}
}

// TestKthDifferencesPairs checks both answers of every k on small samples with many ties.
func TestKthDifferencesPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 200 {
		x, y := make([]float64, 1+rng.IntN(12)), make([]float64, 1+rng.IntN(12))
		for i := range x {
			x[i] = float64(rng.IntN(5))
		}
		for i := range y {
			y[i] = float64(rng.IntN(5)) + rng.Float64()*float64(rng.IntN(2))
		}
		slices.Sort(x)
		slices.Sort(y)
		var diffs []float64
		for _, b := range y {
			for _, a := range x {
				diffs = append(diffs, b-a)
			}
		}
		slices.Sort(diffs)
		for k := 1; k <= len(diffs); k++ {
			a, b := kthDifferences(x, y, k)
			want := diffs[min(k, len(diffs)-1)]
			if a != diffs[k-1] || b != want {
				t.Fatalf("x %v y %v k %d: %v %v, want %v %v", x, y, k, a, b, diffs[k-1], want)
			}
		}
	}
}

// TestCountAtMostRunsMatchTheWalk holds the four-run count to the one-step walk: samples of
// every size around the runs' threshold and of very different sizes, with ties, negative
// values and both zeros, at values below, inside and above the differences' range.
func TestCountAtMostRunsMatchTheWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	draw := func(n, kind int) []float64 {
		s := make([]float64, n)
		for i := range s {
			switch kind {
			case 0: // continuous
				s[i] = rng.NormFloat64()
			case 1: // heavy ties
				s[i] = float64(rng.IntN(4))
			default: // zeros of both signs, and a few far values
				s[i] = [...]float64{0, math.Copysign(0, -1), 1, -1, 1e9, -1e9}[rng.IntN(6)]
			}
		}
		slices.Sort(s)
		return s
	}
	cases := 0
	for _, n := range []int{0, 1, 3, 63, 64, 65, 100, 1000} {
		for _, m := range []int{1, 63, 64, 65, 67, 130, 1000, 5000} {
			for kind := range 3 {
				x, y := draw(n, kind), draw(m, kind)
				vs := []float64{math.Inf(-1), -3, -1, -0.5, 0, math.Copysign(0, -1), 0.25, 1, 3, math.Inf(1)}
				for range 5 {
					vs = append(vs, rng.NormFloat64()*2)
				}
				if n > 0 {
					vs = append(vs, y[rng.IntN(m)]-x[rng.IntN(n)]) // a difference itself: ties at v
				}
				for _, v := range vs {
					if got, want := countAtMost(x, y, v), countAtMostFrom(x, y, v, 0); got != want {
						t.Fatalf("n=%d m=%d kind=%d v=%v: %d, the walk %d", n, m, kind, v, got, want)
					}
					cases++
				}
			}
		}
	}
	if cases < 1000 {
		t.Fatalf("only %d cases", cases)
	}
}
