package analyze

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// textChart draws two quantile curves (values in ms at levels; NaN where a series has none) on
// a log scale, height rows high, for a terminal: marks rather than colours (o and *; @ where
// they meet), so it reads in any terminal, in print and for colour-blind readers.
func textChart(levels []float64, a, b []float64, nameA, nameB string, height int) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range [][]float64{a, b} {
		for _, v := range s {
			if v > 0 && !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return ""
	}
	if hi/lo < 1.2 {
		lo, hi = lo/1.1, hi*1.1 // a flat curve still gets a scale
	}
	const colWidth = 7
	rowOf := func(v float64) int {
		if !(v > 0) || math.IsNaN(v) {
			return -1
		}
		y := int(math.Round((math.Log(v) - math.Log(lo)) / (math.Log(hi) - math.Log(lo)) * float64(height-1)))
		return height - 1 - y
	}
	grid := make([][]byte, height)
	for r := range grid {
		grid[r] = []byte(strings.Repeat(" ", colWidth*len(levels)))
	}
	for i := range levels {
		col := i*colWidth + colWidth/2
		ra, rb := rowOf(a[i]), rowOf(b[i])
		if ra >= 0 {
			grid[ra][col] = 'o'
		}
		if rb >= 0 {
			if rb == ra {
				grid[rb][col] = '@'
			} else {
				grid[rb][col] = '*'
			}
		}
	}
	label := func(r int) string {
		v := math.Exp(math.Log(lo) + float64(height-1-r)/float64(height-1)*(math.Log(hi)-math.Log(lo)))
		return fmtMS(v)
	}
	var b2 strings.Builder
	fmt.Fprintf(&b2, "  %8s\n", "ms (log)")
	for r := range grid {
		l := ""
		if r == 0 || r == height-1 || r == (height-1)/2 {
			l = label(r)
		}
		fmt.Fprintf(&b2, "  %8s |%s\n", l, strings.TrimRight(string(grid[r]), " "))
	}
	fmt.Fprintf(&b2, "  %8s +%s\n", "", strings.Repeat("-", colWidth*len(levels)))
	var axis strings.Builder
	for _, q := range levels {
		s := strconv.FormatFloat(q*100, 'f', -1, 64) + "%"
		pad := colWidth - len(s)
		axis.WriteString(strings.Repeat(" ", pad/2) + s + strings.Repeat(" ", pad-pad/2))
	}
	fmt.Fprintf(&b2, "  %8s  %s\n", "", strings.TrimRight(axis.String(), " "))
	fmt.Fprintf(&b2, "  %8s  o %s   * %s   @ both\n", "", nameA, nameB)
	return b2.String()
}
