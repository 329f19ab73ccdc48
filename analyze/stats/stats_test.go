package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestQuantileType7(t *testing.T) {
	s := []float32{1, 2, 3, 4}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {0.5, 2.5}, {1, 4}, {0.9, 3.7}, {1.0 / 3, 2}} {
		if got := Quantile(s, c.q); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if !math.IsNaN(Quantile(nil, 0.5)) {
		t.Error("empty sample must give NaN")
	}
}

// TestQuantileCICoverage draws many samples from a known distribution and checks that the
// interval covers the true quantile at least as often as promised, for both the exact and the
// normal-approximation branches.
func TestQuantileCICoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		n int
		q float64
	}{{40, 0.5}, {300, 0.9}, {2000, 0.99}, {5000, 0.5}} {
		truth := -math.Log(1 - c.q) // exponential(1) quantile
		const trials = 600
		covered, missing := 0, 0
		s := make([]float32, c.n)
		for range trials {
			for i := range s {
				s[i] = float32(rng.ExpFloat64())
			}
			slices.Sort(s)
			ci := QuantileCI(s, c.q, 0.05)
			if !ci.OK {
				missing++
				continue
			}
			if ci.Lo <= truth && truth <= ci.Hi {
				covered++
			}
		}
		if missing > 0 {
			t.Fatalf("n=%d q=%v: no interval in %d trials", c.n, c.q, missing)
		}
		// 95% nominal; allow sampling noise of 600 trials (sd ~0.9%).
		if rate := float64(covered) / trials; rate < 0.925 {
			t.Errorf("n=%d q=%v: coverage %.3f, want >= 0.95 (less noise)", c.n, c.q, rate)
		}
	}
}

func TestQuantileCINeedsData(t *testing.T) {
	s := make([]float32, 100)
	for i := range s {
		s[i] = float32(i)
	}
	if ci := QuantileCI(s, 0.99, 0.05); ci.OK {
		t.Errorf("P99 of 100 observations cannot have a 95%% distribution-free interval, got %+v", ci)
	}
	if ci := QuantileCI(s, 0.5, 0.05); !ci.OK || ci.Lo > 49.5 || ci.Hi < 49.5 {
		t.Errorf("P50 interval of 0..99 = %+v, want one around 49.5", ci)
	}
}

func TestSignedRankExact(t *testing.T) {
	// Ten positive differences: W+ is the maximum, p = 2/2^10.
	d := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	w := SignedRank(d)
	if !w.Exact || w.WPlus != 55 || math.Abs(w.P-2.0/1024) > 1e-12 {
		t.Errorf("all positive: %+v, want exact W+=55 p=%v", w, 2.0/1024)
	}
	// Symmetric differences: no evidence at all.
	w = SignedRank([]float32{-1, 1.5, -2.5, 2, 3, -3.5})
	if w.P < 0.5 {
		t.Errorf("balanced differences gave p=%v", w.P)
	}
	// Known value: n=8, W+ = 3 (ranks 1 and 2 positive) -> two-sided p = 2*5/256.
	w = SignedRank([]float32{0.1, 0.2, -0.3, -0.4, -0.5, -0.6, -0.7, -0.8})
	if math.Abs(w.P-10.0/256) > 1e-12 {
		t.Errorf("n=8 W+=3: p=%v, want %v", w.P, 10.0/256)
	}
}

func TestSignedRankNormalAgreesWithExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	d := make([]float32, exactWilcoxonMax)
	for i := range d {
		d[i] = float32(rng.NormFloat64() + 0.3)
	}
	exact := SignedRank(d)
	d = append(d, float32(rng.NormFloat64()+0.3)) // one more: normal approximation
	approx := SignedRank(d)
	if !exact.Exact || approx.Exact {
		t.Fatalf("branches not taken: %+v %+v", exact, approx)
	}
	if math.Abs(math.Log(exact.P)-math.Log(approx.P)) > 0.7 {
		t.Errorf("exact p=%v and normal p=%v disagree", exact.P, approx.P)
	}
}

// TestSignedRankNullIsCalibrated: under the null, p < 0.05 about 5% of the time (with ties).
func TestSignedRankNullIsCalibrated(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const trials = 1000
	rejected := 0
	d := make([]float32, 500)
	for range trials {
		for i := range d {
			d[i] = float32(math.Round(rng.NormFloat64()*20) / 20) // ties on purpose
		}
		if SignedRank(d).P < 0.05 {
			rejected++
		}
	}
	if rate := float64(rejected) / trials; rate > 0.075 || rate < 0.025 {
		t.Errorf("null rejection rate %.3f, want about 0.05", rate)
	}
	shifted := make([]float32, 200)
	for i := range shifted {
		shifted[i] = float32(rng.NormFloat64() + 0.5)
	}
	if p := SignedRank(shifted).P; p > 1e-6 {
		t.Errorf("shift of half a standard deviation over 200 pairs: p=%v", p)
	}
}

func TestBenjaminiHochberg(t *testing.T) {
	ps := []float64{0.01, 0.04, 0.03, 0.005, 0.5}
	got := BenjaminiHochberg(ps)
	want := []float64{0.025, 0.05, 0.05, 0.025, 0.5}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("BH[%d] = %v, want %v (all %v)", i, got[i], want[i], got)
		}
	}
}

func TestNormalQuantile(t *testing.T) {
	if z := NormalQuantile(0.975); math.Abs(z-1.959963985) > 1e-6 {
		t.Errorf("z(0.975) = %v", z)
	}
}

// TestSignedRankMatchesBruteForce checks the merge-based ranking against ranks computed the
// textbook way (sort by magnitude, average ranks over ties).
func TestSignedRankMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 200 {
		n := 1 + rng.IntN(300)
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(rng.IntN(21)-10) / 4 // many ties and zeros
		}
		var nz []float32
		for _, v := range d {
			if v != 0 {
				nz = append(nz, v)
			}
		}
		slices.SortFunc(nz, func(a, b float32) int {
			return cmpAbs(a, b)
		})
		want := 0.0
		for i := 0; i < len(nz); {
			j := i
			for j < len(nz) && cmpAbs(nz[j], nz[i]) == 0 {
				j++
			}
			for k := i; k < j; k++ {
				if nz[k] > 0 {
					want += float64(i+1+j) / 2
				}
			}
			i = j
		}
		if got := SignedRank(d); got.WPlus != want || got.N != len(nz) {
			t.Fatalf("trial %d: W+ = %v (n=%d), want %v (n=%d)", trial, got.WPlus, got.N, want, len(nz))
		}
	}
}

func cmpAbs(a, b float32) int {
	x, y := math.Abs(float64(a)), math.Abs(float64(b))
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// TestBinomialCDFMatchesTwoLgammaForm holds binomialCDF, which reads log(k!) from a table, to the
// form it replaced (two Lgamma calls per term): the same float64 values, bit for bit, so that no
// confidence interval's ranks move.
func TestBinomialCDFMatchesTwoLgammaForm(t *testing.T) {
	ref := func(n int, p float64) []float64 {
		out := make([]float64, n+1)
		lp, lq := math.Log(p), math.Log1p(-p)
		lgN, _ := math.Lgamma(float64(n + 1))
		sum := 0.0
		for k := 0; k <= n; k++ {
			lk, _ := math.Lgamma(float64(k + 1))
			lnk, _ := math.Lgamma(float64(n - k + 1))
			sum += math.Exp(lgN - lk - lnk + float64(k)*lp + float64(n-k)*lq)
			out[k] = math.Min(sum, 1)
		}
		return out
	}
	for _, n := range []int{1, 2, 7, 20, 99, 500, 2524} {
		for _, p := range []float64{0.5, 0.9, 0.95, 0.99} {
			want := ref(n, p)
			var got []float64
			binomialCDF(n, p, func(k int, c float64) {
				if k != len(got) {
					t.Fatalf("n=%d p=%v: visited %d after %d values", n, p, k, len(got))
				}
				got = append(got, c)
			})
			if len(got) != len(want) {
				t.Fatalf("n=%d p=%v: %d values, want %d", n, p, len(got), len(want))
			}
			for k := range want {
				if math.Float64bits(got[k]) != math.Float64bits(want[k]) {
					t.Fatalf("n=%d p=%v k=%d: %v, the two-Lgamma form gives %v", n, p, k, got[k], want[k])
				}
			}
		}
	}
}

// TestOrderStatRanksExactSearch holds the ranks found while the binomial sum is taken to the
// search over the whole array of sums that it replaced, on every n the exact branch serves.
func TestOrderStatRanksExactSearch(t *testing.T) {
	before := func(n int, q, gamma float64) (l, u int) {
		half := gamma / 2
		cdf := make([]float64, 0, n+1)
		binomialCDF(n, q, func(_ int, c float64) { cdf = append(cdf, c) })
		for k := n; k >= 1; k-- {
			if cdf[k-1] <= half {
				l = k
				break
			}
		}
		for k := 1; k <= n; k++ {
			if 1-cdf[k-1] <= half {
				u = k
				break
			}
		}
		return l, u
	}
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99} {
		for _, gamma := range []float64{0.0001, 0.01, 0.05, 0.3} {
			for n := 1; float64(n)*q*(1-q) < 25; n++ {
				l, u := before(n, q, gamma)
				ok := l >= 1 && u >= 1 && u <= n && l <= u
				if !ok {
					l, u = 0, 0
				}
				if gl, gu, gok := orderStatBounds(n, q, gamma); gl != l || gu != u || gok != ok {
					t.Fatalf("n=%d q=%v gamma=%v: ranks %d..%d (%v), the array search gives %d..%d (%v)", n, q, gamma, gl, gu, gok, l, u, ok)
				}
			}
		}
	}
}

func TestQuantileCIAtMatchesQuantileCI(t *testing.T) {
	s := make([]float32, 300)
	for i := range s {
		s[i] = float32(i) / 3
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		if a, b := QuantileCI(s, q, 0.001), QuantileCIAt(s, OrderStatRanks(len(s), q, 0.001)); a != b {
			t.Errorf("q=%v: QuantileCI %v, QuantileCIAt %v", q, a, b)
		}
	}
	if got := QuantileCIAt(s[:10], OrderStatRanks(len(s), 0.5, 0.001)); got.OK {
		t.Errorf("ranks of a larger sample applied to 10 values: %v, want not OK", got)
	}
}

// TestLogFactorialsLargeNotShared: a table past lfactShared is built for the call and not kept,
// and gives the same log(k!) as the shared one.
func TestLogFactorialsLargeNotShared(t *testing.T) {
	small := logFactorials(100)
	large := logFactorials(lfactShared + 5)
	if len(large) != lfactShared+6 {
		t.Fatalf("table of %d entries for n=%d", len(large), lfactShared+5)
	}
	for k := range small {
		if math.Float64bits(small[k]) != math.Float64bits(large[k]) {
			t.Fatalf("log(%d!): shared %v, built %v", k, small[k], large[k])
		}
	}
	if cur := lfactTable.Load(); cur == nil || len(*cur) >= lfactShared {
		t.Fatalf("the shared table holds %d entries after a large call", len(*cur))
	}
}
