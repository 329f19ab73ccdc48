// Package stats holds the statistics srctl diff reports: exact quantiles, distribution-free
// confidence intervals for quantiles from order statistics, the Wilcoxon signed-rank test for
// paired samples, and the Benjamini-Hochberg correction for testing many endpoints at once.
//
// Everything here is a pure function of its inputs: no randomness, so the same logs always give
// the same report.
package stats

import (
	"math"
	"slices"
	"sync/atomic"
)

// Quantile returns the q-quantile (0 <= q <= 1) of sorted by linear interpolation between the two
// nearest order statistics (Hyndman and Fan type 7, the default of R and NumPy). NaN when empty.
func Quantile(sorted []float32, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := q * float64(n-1)
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return float64(sorted[n-1])
	}
	frac := h - float64(lo)
	return float64(sorted[lo]) + frac*(float64(sorted[lo+1])-float64(sorted[lo]))
}

// Interval is a confidence interval; OK is false when the sample is too small to give one at the
// requested level (the distribution-free interval needs enough observations beyond the quantile).
type Interval struct {
	Lo, Hi float64
	OK     bool
}

// QuantileCI returns a distribution-free interval for the q-quantile of the population sorted was
// drawn from, covering it with probability at least 1-gamma: the order statistics X(l), X(u) with
// P(Binomial(n,q) < l) <= gamma/2 and P(Binomial(n,q) >= u) <= gamma/2.
func QuantileCI(sorted []float32, q, gamma float64) Interval {
	return QuantileCIAt(sorted, OrderStatRanks(len(sorted), q, gamma))
}

// QuantileCIAt is QuantileCI with the ranks already computed (for samples of the same size,
// such as the two sides of paired data: the ranks depend only on n, q and gamma).
func QuantileCIAt(sorted []float32, r Ranks) Interval {
	if !r.OK || r.U > len(sorted) {
		return Interval{}
	}
	return Interval{Lo: float64(sorted[r.L-1]), Hi: float64(sorted[r.U-1]), OK: true}
}

// Ranks are the 1-based order statistics L <= U that bound a quantile's confidence interval.
type Ranks struct {
	L, U int
	OK   bool
}

// OrderStatRanks returns the ranks of QuantileCI for a sample of n.
func OrderStatRanks(n int, q, gamma float64) Ranks {
	l, u, ok := orderStatBounds(n, q, gamma)
	return Ranks{l, u, ok}
}

// orderStatBounds returns the 1-based ranks l <= u of QuantileCI.
func orderStatBounds(n int, q, gamma float64) (l, u int, ok bool) {
	if n == 0 || q <= 0 || q >= 1 {
		return 0, 0, false
	}
	half := gamma / 2
	if sd := math.Sqrt(float64(n) * q * (1 - q)); sd*sd >= 25 {
		// Normal approximation with continuity correction; exact summation would cost O(n).
		z := NormalQuantile(1 - half)
		l = int(math.Floor(float64(n)*q + 0.5 - z*sd))
		u = int(math.Ceil(float64(n)*q + 0.5 + z*sd))
	} else {
		// l: the largest rank with P(B <= l-1) <= half; u: the smallest rank with
		// P(B >= u) = 1 - P(B <= u-1) <= half. P(B <= k) is read as it is summed, for k < n.
		binomialCDF(n, q, func(k int, cdf float64) {
			if k == n {
				return
			}
			if cdf <= half {
				l = k + 1
			}
			if u == 0 && 1-cdf <= half {
				u = k + 1
			}
		})
	}
	if l < 1 || u < 1 || u > n || l > u {
		return 0, 0, false
	}
	return l, u, true
}

// binomialCDF calls visit with P(B <= k) for k = 0..n in turn, computed in log space so that
// large n does not underflow the first terms. log(k!) comes from a table read twice per term (as
// k! and as (n-k)!): the same values as two Lgamma calls per term, for half the work. Below
// lfactShared nothing is allocated per call (it used to fill two arrays of n+1 floats per
// endpoint and quantile: megabytes allocated per diff, though the page faults measured stayed
// the same).
func binomialCDF(n int, p float64, visit func(k int, cdf float64)) {
	lfact := logFactorials(n)
	lp, lq := math.Log(p), math.Log1p(-p)
	sum := 0.0
	for k := 0; k <= n; k++ {
		sum += math.Exp(lfact[n] - lfact[k] - lfact[n-k] + float64(k)*lp + float64(n-k)*lq)
		visit(k, math.Min(sum, 1))
	}
}

// lfactTable holds log(k!) for k = 0..len-1, grown on demand and shared by every goroutine: a
// published table is never written again.
var lfactTable atomic.Pointer[[]float64]

// lfactShared bounds the shared table (512 KiB): the exact branch serves n < 25/(q(1-q)), a few
// thousand for diff's quantiles, but a quantile near 0 or 1 could ask for millions, and such a
// table is built for the call alone rather than kept for the life of the process.
const lfactShared = 1 << 16

// logFactorials returns a table of log(k!) for at least k = 0..n.
func logFactorials(n int) []float64 {
	build := func(size int) []float64 {
		t := make([]float64, size)
		for k := range t {
			t[k], _ = math.Lgamma(float64(k + 1))
		}
		return t
	}
	if n >= lfactShared {
		return build(n + 1)
	}
	for {
		cur := lfactTable.Load()
		if cur != nil && len(*cur) > n {
			return *cur
		}
		t := build(max(n+1, 1024))
		if lfactTable.CompareAndSwap(cur, &t) {
			return t
		}
	}
}

// NormalCDF is the standard normal distribution function.
func NormalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// NormalQuantile inverts NormalCDF by bisection (60 halvings: exact to float64 precision over
// the range a confidence level can ask for).
func NormalQuantile(p float64) float64 {
	switch {
	case p <= 0:
		return math.Inf(-1)
	case p >= 1:
		return math.Inf(1)
	}
	lo, hi := -40.0, 40.0
	for range 100 {
		mid := (lo + hi) / 2
		if NormalCDF(mid) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// Wilcoxon is the result of a two-sided Wilcoxon signed-rank test that the differences are
// symmetric around zero.
type Wilcoxon struct {
	N     int     // differences that are not zero (zeros are dropped, Wilcoxon's method)
	WPlus float64 // sum of the ranks of positive differences
	P     float64 // two-sided p-value
	Exact bool    // P from the exact null distribution (small samples without ties)
}

// exactWilcoxonMax is the sample size up to which the exact null distribution is used.
const exactWilcoxonMax = 60

// SignedRank runs the Wilcoxon signed-rank test on paired differences d (for srctl: log of the
// shadow/primary latency ratio of each pair). d is not modified.
func SignedRank(d []float32) Wilcoxon {
	s := slices.Clone(d)
	slices.Sort(s)
	return SignedRankSorted(s)
}

// SignedRankSorted is SignedRank on differences already sorted ascending (NaNs first, as
// slices.Sort leaves them). Ranking by magnitude then merges the negative run, walked from zero
// outwards, with the positive run: O(n), no second sort.
func SignedRankSorted(sorted []float32) Wilcoxon {
	lo := 0
	for lo < len(sorted) && math.IsNaN(float64(sorted[lo])) {
		lo++
	}
	s := sorted[lo:]
	neg, _ := slices.BinarySearch(s, 0) // s[:neg] < 0
	pos := neg
	for pos < len(s) && s[pos] == 0 {
		pos++ // zeros are dropped (Wilcoxon's method)
	}
	n := neg + len(s) - pos
	if n == 0 {
		return Wilcoxon{P: 1}
	}
	// i walks negatives from -0 outwards, j positives; mag(k) gives the next magnitude.
	i, j := neg-1, pos
	next := func() (mag float64, positive bool) {
		switch {
		case i < 0:
			j++
			return float64(s[j-1]), true
		case j >= len(s):
			i--
			return -float64(s[i+1]), false
		case -s[i] <= s[j]:
			i--
			return -float64(s[i+1]), false
		default:
			j++
			return float64(s[j-1]), true
		}
	}
	var wPlus, tieTerm float64
	ties := false
	rank := 0
	curMag, curPos := next()
	for rank < n {
		// Collect the run of equal magnitudes starting at curMag.
		start := rank
		posInRun := 0
		if curPos {
			posInRun++
		}
		rank++
		var m float64
		var p bool
		for rank < n {
			m, p = next()
			if m != curMag {
				break
			}
			if p {
				posInRun++
			}
			rank++
			m = math.NaN()
		}
		t := float64(rank - start)
		wPlus += float64(posInRun) * float64(start+1+rank) / 2
		if t > 1 {
			ties = true
			tieTerm += t*t*t - t
		}
		curMag, curPos = m, p
	}
	w := Wilcoxon{N: n, WPlus: wPlus}
	if n <= exactWilcoxonMax && !ties {
		w.P, w.Exact = exactSignedRankP(n, wPlus), true
		return w
	}
	fn := float64(n)
	mean := fn * (fn + 1) / 4
	variance := fn*(fn+1)*(2*fn+1)/24 - tieTerm/48
	if variance <= 0 {
		w.P = 1
		return w
	}
	z := (math.Abs(wPlus-mean) - 0.5) / math.Sqrt(variance)
	if z < 0 {
		z = 0
	}
	w.P = math.Min(1, 2*(1-NormalCDF(z)))
	return w
}

// exactSignedRankP is the two-sided p-value of W+ = w under the null with n untied ranks:
// counts of rank subsets by sum, by dynamic programming.
func exactSignedRankP(n int, w float64) float64 {
	maxSum := n * (n + 1) / 2
	counts := make([]float64, maxSum+1)
	counts[0] = 1
	for r := 1; r <= n; r++ {
		for s := maxSum; s >= r; s-- {
			counts[s] += counts[s-r]
		}
	}
	total := math.Ldexp(1, n)
	mean := float64(maxSum) / 2
	dev := math.Abs(w - mean)
	tail := 0.0
	for s := 0; s <= maxSum; s++ {
		if math.Abs(float64(s)-mean) >= dev-1e-9 {
			tail += counts[s]
		}
	}
	return math.Min(1, tail/total)
}

// BenjaminiHochberg returns the BH-adjusted p-values (q-values) of ps, in the same order: the
// smallest false discovery rate at which each hypothesis would be rejected.
func BenjaminiHochberg(ps []float64) []float64 {
	m := len(ps)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return 0
	})
	out := make([]float64, m)
	running := 1.0
	for r := m - 1; r >= 0; r-- {
		i := idx[r]
		adj := ps[i] * float64(m) / float64(r+1)
		running = math.Min(running, adj)
		out[i] = math.Min(running, 1)
	}
	return out
}
