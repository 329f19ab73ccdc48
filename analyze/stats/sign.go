package stats

import "math"

// SignTest is the two-sided p-value of an exact sign test: how likely a split at least as uneven
// as plus against minus is when each side is equally likely (ties are left out by the caller).
// Above 1,000 it uses the normal approximation with a continuity correction.
func SignTest(plus, minus int) float64 {
	n := plus + minus
	if n == 0 {
		return 1
	}
	k := min(plus, minus)
	if n > 1000 {
		z := (float64(n)/2 - float64(k) - 0.5) / math.Sqrt(float64(n)/4)
		return min(1, 2*NormalCDF(-z))
	}
	// P(X <= k) for X ~ Binomial(n, 1/2), summed in log space.
	lgn, _ := math.Lgamma(float64(n + 1))
	p := 0.0
	for i := 0; i <= k; i++ {
		li, _ := math.Lgamma(float64(i + 1))
		lni, _ := math.Lgamma(float64(n - i + 1))
		p += math.Exp(lgn - li - lni - float64(n)*math.Ln2)
	}
	return min(1, 2*p)
}
