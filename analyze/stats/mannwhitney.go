package stats

import (
	"math"
	"slices"
	"sort"
)

// TwoSample is the comparison of two independent samples x (baseline) and y (candidate): the
// Mann-Whitney U test and the Hodges-Lehmann estimate of the shift y - x with its interval.
type TwoSample struct {
	N, M int
	U    float64 // Mann-Whitney U of y: pairs with y > x, ties counting one half
	P    float64 // two-sided p-value
	// Shift is the Hodges-Lehmann estimate: the median of the N*M differences y_j - x_i.
	Shift float64
	// Lo, Hi bound Shift at the requested confidence (Moses' distribution-free interval from
	// the order statistics of the differences); OK is false when the samples are too small
	// for that confidence.
	Lo, Hi float64
	OK     bool
	Exact  bool // the p-value and the interval come from the exact null distribution
}

// exactMax bounds N*M for the exact distribution (a table of N*M+1 counts per step).
const exactMax = 2500

// MannWhitney compares x and y; confidence is e.g. 0.95. Exact null distribution when there
// are no ties and N*M <= 2500, normal approximation with tie and continuity corrections beyond.
// x and y are not modified; NaNs must not be among them.
func MannWhitney(x, y []float64, confidence float64) TwoSample {
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	return MannWhitneySorted(xs, ys, confidence)
}

// MannWhitneySorted is MannWhitney on samples already sorted ascending. It never lists the N*M
// differences: U comes from one merge, and each order statistic of the differences (the
// Hodges-Lehmann median and Moses' bounds) from a bisection over float64 values that counts the
// differences at or below a value with two pointers, so 10^6 + 10^6 observations take
// O((N+M) * 64) time and no extra memory.
func MannWhitneySorted(x, y []float64, confidence float64) TwoSample {
	n, m := len(x), len(y)
	r := TwoSample{N: n, M: m, P: 1}
	if n == 0 || m == 0 {
		return r
	}
	nm := n * m
	r.U = mannWhitneyU(x, y)
	if nm%2 == 1 {
		r.Shift = KthDifference(x, y, nm/2+1)
	} else {
		a, b := kthDifferences(x, y, nm/2)
		r.Shift = (a + b) / 2
	}
	ties := tieCorrectionSorted(x, y)
	alpha := 1 - confidence
	bounds := func(k int) {
		if k >= 1 && k <= nm-k+1 {
			r.Lo, r.Hi, r.OK = KthDifference(x, y, k), KthDifference(x, y, nm-k+1), true
		}
	}
	if ties == 0 && nm <= exactMax {
		r.Exact = true
		cdf := uNullCDF(n, m)
		u := math.Min(r.U, float64(nm)-r.U)
		r.P = math.Min(1, 2*cdf[int(u)])
		// k = the largest count with P(U <= k-1) <= alpha/2: the interval is the k-th smallest
		// and k-th largest difference.
		k := 0
		for k < len(cdf) && cdf[k] <= alpha/2 {
			k++
		}
		bounds(k)
		return r
	}
	mean := float64(nm) / 2
	sd := math.Sqrt(float64(n) * float64(m) / 12 * (float64(n+m+1) - ties))
	if sd == 0 {
		return r
	}
	z := (math.Abs(r.U-mean) - 0.5) / sd
	r.P = math.Min(1, 2*(1-NormalCDF(math.Max(z, 0))))
	bounds(int(math.Floor(mean - NormalQuantile(1-alpha/2)*sd)))
	return r
}

// mannWhitneyU counts the pairs with y > x (ties one half) of sorted samples by merging them.
func mannWhitneyU(x, y []float64) float64 {
	var u float64
	lo, hi := 0, 0 // x[:lo] < y[j], x[:hi] <= y[j]
	for _, v := range y {
		for lo < len(x) && x[lo] < v {
			lo++
		}
		hi = max(hi, lo)
		for hi < len(x) && x[hi] <= v {
			hi++
		}
		u += float64(lo) + float64(hi-lo)/2
	}
	return u
}

// KthDifference returns the k-th smallest (1-based) of the N*M differences y[j] - x[i] of two
// sorted samples, without listing them all: a bisection over the ordered bit patterns of float64
// narrows (lo, hi] until it holds few differences, which are then listed and sorted. Since
// counts only change at differences, the answer is one of them, computed exactly as y[j] - x[i].
func KthDifference(x, y []float64, k int) float64 {
	d, _ := kthDifferences(x, y, k)
	return d
}

// kthDifferences returns the k-th and, when there is one, the (k+1)-th smallest difference: the
// two halves of an even count's median for the price of one search.
func kthDifferences(x, y []float64, k int) (float64, float64) {
	nm := len(x) * len(y)
	k1 := min(k+1, nm) // the upper bound must hold both
	least := y[0] - x[len(x)-1]
	if least == 0 {
		least = math.Copysign(0, -1) // -0 sorts below +0 in key order: keep every zero above lo
	}
	lo, hi := orderedKey(least)-1, orderedKey(y[len(y)-1]-x[0])
	cLo, cHi := 0, nm            // differences <= lo (none) and <= hi (all)
	few := (len(x) + len(y)) / 4 // listing and sorting this many costs about one more count
	bisect := false
	for hi-lo > 1 {
		if cHi-cLo <= few {
			return selectBetween(x, y, fromOrderedKey(lo), fromOrderedKey(hi), k-cLo, k1-cLo, cHi-cLo)
		}
		// The count grows smoothly with the value (it is N*M times the differences' CDF), so
		// interpolating where the k-th falls converges in a few steps; a bisection step follows
		// any step that did not halve the count between the bounds, which keeps the worst case
		// at the bisection's.
		vlo, vhi := fromOrderedKey(lo), fromOrderedKey(hi)
		var mid uint64
		if bisect {
			// Halve the range of values (fewer steps than halving the keys, which first walks
			// the exponents).
			mid = orderedKey(vlo/2 + vhi/2)
		} else {
			frac := float64(k-cLo) / float64(cHi-cLo)
			mid = orderedKey(vlo + (vhi-vlo)*min(max(frac, 0.001), 0.999))
		}
		if mid <= lo || mid >= hi {
			mid = lo + (hi-lo)/2
		}
		before := cHi - cLo
		switch c := countAtMost(x, y, fromOrderedKey(mid)); {
		case c >= k1:
			hi, cHi = mid, c
		case c < k:
			lo, cLo = mid, c
		default: // c == k < k1: mid falls between the two
			return around(x, y, fromOrderedKey(mid))
		}
		bisect = !bisect && 2*(cHi-cLo) > before
	}
	// (lo, hi] holds one value: both are it.
	v := fromOrderedKey(hi)
	return v, v
}

// around returns the largest difference <= v and the smallest above it.
func around(x, y []float64, v float64) (below, above float64) {
	below, above = math.Inf(-1), math.Inf(1)
	p := 0
	for _, b := range y {
		for p < len(x) && b-x[p] > v {
			p++
		}
		if p < len(x) {
			below = max(below, b-x[p])
		}
		if p > 0 {
			above = min(above, b-x[p-1])
		}
	}
	return below, above
}

// selectBetween returns the k-th and k1-th smallest of the size differences in (lo, hi].
func selectBetween(x, y []float64, lo, hi float64, k, k1, size int) (float64, float64) {
	between := make([]float64, 0, size)
	pHi, pLo := 0, 0 // y[j]-x[i] <= hi for i >= pHi, <= lo for i >= pLo
	for _, b := range y {
		for pHi < len(x) && b-x[pHi] > hi {
			pHi++
		}
		pLo = max(pLo, pHi)
		for pLo < len(x) && b-x[pLo] > lo {
			pLo++
		}
		for _, a := range x[pHi:pLo] {
			between = append(between, b-a)
		}
	}
	slices.Sort(between)
	return between[k-1], between[k1-1]
}

// countAtMost counts the pairs with y[j] - x[i] <= v. For each y[j] (ascending) the x's that
// qualify are a suffix x[p:], and p never moves back: y[j] - x[i] grows with y[j] (rounding is
// monotone), so a pair that failed for y[j] fails for every larger y.
//
// The walk is a merge, and which of p and j moves next is as good as random: a branch per step
// mispredicted about every other time (~6 ns a step on 10^5 + 10^5 log latencies, and a
// Mann-Whitney test takes twenty-odd walks). So y is cut into four runs, walked in step by four
// independent merges that each move p or j without a branch; a run's first p comes from a binary
// search. Each merge is a chain of dependent loads and compares: four keep the core busy while
// each one waits (BenchmarkMannWhitneyLarge 33 -> 14 ms on an Intel host of 2026-12). Runs short
// of their end finish with the one-step walk.
func countAtMost(x, y []float64, v float64) int {
	if len(y) < 64 {
		return countAtMostFrom(x, y, v, 0)
	}
	n, m := len(x), len(y)
	first := func(j int) int { // the run's first p, as the walk would have found it
		return sort.Search(n, func(i int) bool { return !(y[j]-x[i] > v) })
	}
	// The runs' bounds: y[j0:e0], y[j1:e1], y[j2:e2], y[j3:m]. Each run's state is kept in
	// variables of its own (in an array indexed in a loop they went through memory).
	e0, e1, e2 := m/4, m/2, 3*m/4
	j0, j1, j2, j3 := 0, e0, e1, e2
	p0, p1, p2, p3 := first(j0), first(j1), first(j2), first(j3)
	count := 0
	for p0 < n && p1 < n && p2 < n && p3 < n && j0 < e0 && j1 < e1 && j2 < e2 && j3 < m {
		a0, a1, a2, a3 := b2i(y[j0]-x[p0] > v), b2i(y[j1]-x[p1] > v), b2i(y[j2]-x[p2] > v), b2i(y[j3]-x[p3] > v)
		// a = 1: x[p] is too small for y[j], move p; a = 0: count y[j]'s suffix x[p:], move j.
		count += (n-p0)&(a0-1) + (n-p1)&(a1-1) + (n-p2)&(a2-1) + (n-p3)&(a3-1)
		p0, p1, p2, p3 = p0+a0, p1+a1, p2+a2, p3+a3
		j0, j1, j2, j3 = j0+1-a0, j1+1-a1, j2+1-a2, j3+1-a3
	}
	return count + countAtMostFrom(x, y[j0:e0], v, p0) + countAtMostFrom(x, y[j1:e1], v, p1) +
		countAtMostFrom(x, y[j2:e2], v, p2) + countAtMostFrom(x, y[j3:m], v, p3)
}

// b2i is 1 for true, 0 for false, without a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// countAtMostFrom is countAtMost's walk, one step at a time, for y's that need no x below p.
func countAtMostFrom(x, y []float64, v float64, p int) int {
	count := 0
	for _, b := range y {
		for p < len(x) && b-x[p] > v {
			p++
		}
		count += len(x) - p
	}
	return count
}

// orderedKey maps a float64 to a uint64 with the same order (negative numbers reversed).
func orderedKey(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

func fromOrderedKey(k uint64) float64 {
	if k>>63 != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// tieCorrectionSorted is sum(t^3 - t) / ((n+m)(n+m-1)) over groups of tied values in the pooled
// sample, the term the variance of U loses to ties.
// x and y are sorted; the runs of equal values are counted while merging them.
func tieCorrectionSorted(x, y []float64) float64 {
	var sum float64
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		var v float64
		switch {
		case j >= len(y) || i < len(x) && x[i] <= y[j]:
			v = x[i]
		default:
			v = y[j]
		}
		t := 0.0
		for i < len(x) && x[i] == v {
			i++
			t++
		}
		for j < len(y) && y[j] == v {
			j++
			t++
		}
		sum += t*t*t - t
	}
	N := float64(len(x) + len(y))
	if N < 2 {
		return 0
	}
	return sum / (N * (N - 1))
}

// uNullCDF returns P(U <= u) for u = 0..n*m under the null hypothesis without ties. U is
// symmetric there, so it counts the arrangements of n x's and m y's by their pairs with x > y:
// the largest value is an x above all j y's (adding j) or a y (adding none),
// f(i, j, u) = f(i-1, j, u-j) + f(i, j-1, u).
func uNullCDF(n, m int) []float64 {
	prev := make([][]float64, m+1)
	for j := range prev {
		prev[j] = make([]float64, n*m+1)
		prev[j][0] = 1 // i = 0: only U = 0
	}
	for i := 1; i <= n; i++ {
		cur := make([][]float64, m+1)
		for j := range cur {
			cur[j] = make([]float64, n*m+1)
			for u := 0; u <= i*j; u++ {
				var v float64
				if u >= j {
					v += prev[j][u-j]
				}
				if j > 0 {
					v += cur[j-1][u]
				}
				cur[j][u] = v
			}
		}
		prev = cur
	}
	counts := prev[m]
	total := 0.0
	for _, c := range counts {
		total += c
	}
	cdf := make([]float64, len(counts))
	acc := 0.0
	for u, c := range counts {
		acc += c
		cdf[u] = acc / total
	}
	return cdf
}
