package stats

import (
	"math"
	"slices"
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
func MannWhitney(x, y []float64, confidence float64) TwoSample {
	n, m := len(x), len(y)
	r := TwoSample{N: n, M: m, P: 1}
	if n == 0 || m == 0 {
		return r
	}
	diffs := make([]float64, 0, n*m)
	for _, b := range y {
		for _, a := range x {
			d := b - a
			diffs = append(diffs, d)
			switch {
			case d > 0:
				r.U++
			case d == 0:
				r.U += 0.5
			}
		}
	}
	slices.Sort(diffs)
	nm := len(diffs)
	if nm%2 == 1 {
		r.Shift = diffs[nm/2]
	} else {
		r.Shift = (diffs[nm/2-1] + diffs[nm/2]) / 2
	}
	ties := tieCorrection(x, y)
	alpha := 1 - confidence
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
		if k >= 1 && k <= nm-k+1 {
			r.Lo, r.Hi, r.OK = diffs[k-1], diffs[nm-k], true
		}
		return r
	}
	mean := float64(nm) / 2
	sd := math.Sqrt(float64(n*m) / 12 * (float64(n+m+1) - ties))
	if sd == 0 {
		return r
	}
	z := (math.Abs(r.U-mean) - 0.5) / sd
	r.P = math.Min(1, 2*(1-NormalCDF(math.Max(z, 0))))
	k := int(math.Floor(mean - NormalQuantile(1-alpha/2)*sd))
	if k >= 1 && k <= nm-k+1 {
		r.Lo, r.Hi, r.OK = diffs[k-1], diffs[nm-k], true
	}
	return r
}

// tieCorrection is sum(t^3 - t) / ((n+m)(n+m-1)) over groups of tied values in the pooled
// sample, the term the variance of U loses to ties.
func tieCorrection(x, y []float64) float64 {
	pooled := append(slices.Clone(x), y...)
	slices.Sort(pooled)
	var sum float64
	for i := 0; i < len(pooled); {
		j := i
		for j < len(pooled) && pooled[j] == pooled[i] {
			j++
		}
		t := float64(j - i)
		sum += t*t*t - t
		i = j
	}
	N := float64(len(pooled))
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
