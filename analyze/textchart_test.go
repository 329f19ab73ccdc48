package analyze

import (
	"math"
	"strings"
	"testing"
)

func TestTextChart(t *testing.T) {
	levels := []float64{0.5, 0.9, 0.99}
	a := []float64{10, 20, 40}
	b := []float64{10, 80, math.NaN()}
	out := textChart(levels, a, b, "primary", "shadow", 5)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 1+5+1+1+1 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	plot := strings.Join(lines[1:6], "\n")
	if strings.Count(plot, "o") != 2 || strings.Count(plot, "*") != 1 || strings.Count(plot, "@") != 1 {
		t.Errorf("marks: want o x2 (20, 40), * x1 (80), @ x1 (10 on both):\n%s", out)
	}
	// The largest value is on the top row, the smallest on the bottom one; log scale: 80 ms is
	// the top, 10 ms the bottom, 20 and 40 in between.
	if !strings.Contains(lines[1], "*") || !strings.Contains(lines[5], "@") || !strings.Contains(lines[1], "80.00") || !strings.Contains(lines[5], "10.00") {
		t.Errorf("scale:\n%s", out)
	}
	for _, want := range []string{"50%", "90%", "99%", "o primary", "* shadow"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if textChart(levels, []float64{math.NaN()}, []float64{math.NaN()}, "a", "b", 5) != "" {
		t.Error("a chart without values")
	}
}
