package stats

import (
	"math"
	"testing"
)

func TestSignTest(t *testing.T) {
	for _, c := range []struct {
		plus, minus int
		want        float64
	}{
		{10, 0, 2 * math.Pow(0.5, 10)}, // 0.00195
		{0, 10, 2 * math.Pow(0.5, 10)},
		{5, 5, 1},
		{0, 0, 1},
		{8, 2, 0.109375}, // 2 * (1+10+45)/1024
		{60, 0, 2 * math.Pow(0.5, 60)},
	} {
		if got := SignTest(c.plus, c.minus); math.Abs(got-c.want) > 1e-9*math.Max(1, c.want) && math.Abs(got-c.want)/c.want > 1e-9 {
			t.Errorf("SignTest(%d, %d) = %g, want %g", c.plus, c.minus, got, c.want)
		}
	}
	// The normal approximation above 1,000 meets the exact sum near the switch.
	exact, approx := SignTest(470, 530), SignTest(940, 1060)
	if exact < 0.05 || exact > 0.08 || approx > 0.01 {
		t.Errorf("SignTest(470, 530) = %g (about 0.06 expected), SignTest(940, 1060) = %g (about 0.008 expected)", exact, approx)
	}
}
