package htmlreport

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Plot is a latency plot: quantile curves (latency against quantile level) of up to four
// series on a log latency axis and a logit quantile axis, which spreads out both tails where
// regressions hide, with marks at chosen quantiles and their intervals.
//
// Drawn here rather than with gonum/plot: the plots are one kind, a few hundred lines draw it,
// and the SVG keeps hooks a browser test and a screen reader use (a class and data-name per
// series, a <title> per point) that a general plotting library's output does not have; it also
// keeps fonts and an image stack out of a binary that runs next to production databases.
type Plot struct {
	Title  string
	YLabel string // default "latency, ms (log scale)"
	Series []Series
	// Marks are points with an interval, on a series (P50..P99 of the second series, say).
	Marks []Mark
}

// Series is one curve: Y (ms) at quantile levels Q (0 < q < 1). Points with Y <= 0 or NaN are
// left out.
type Series struct {
	Name string
	Q, Y []float64
}

// Mark is a value with an interval at a quantile level.
type Mark struct {
	Series int // index into Series: its colour
	Label  string
	Q      float64
	Y      float64
	Lo, Hi float64 // the interval; both 0 when there is none
}

// The Okabe-Ito palette: distinguishable with every common colour-vision deficiency; dash
// patterns and marker shapes tell the series apart in greyscale print.
var seriesStyles = []struct{ colour, dash, marker string }{
	{"#0072B2", "", "circle"},
	{"#D55E00", "6 3", "square"},
	{"#009E73", "2 2", "diamond"},
	{"#CC79A7", "8 3 2 3", "triangle"},
}

const (
	plotW, plotH                   = 640, 300
	padL, padR, padT, padB         = 64, 16, 34, 42
	innerW, innerH                 = plotW - padL - padR, plotH - padT - padB
	qMin, qMax             float64 = 0.005, 0.9995
)

func logit(q float64) float64 { return math.Log(q / (1 - q)) }

// SVG draws the plot. Text is escaped; nothing from the data reaches an attribute unescaped.
func (p *Plot) SVG() string {
	lo, hi := math.Inf(1), math.Inf(-1)
	valid := func(v float64) bool { return v > 0 && !math.IsNaN(v) && !math.IsInf(v, 0) }
	for _, s := range p.Series {
		for _, y := range s.Y {
			if valid(y) {
				lo, hi = math.Min(lo, y), math.Max(hi, y)
			}
		}
	}
	for _, m := range p.Marks {
		for _, y := range []float64{m.Y, m.Lo, m.Hi} {
			if valid(y) {
				lo, hi = math.Min(lo, y), math.Max(hi, y)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" data-series="%d">`,
		plotW, plotH, plotW, plotH, len(p.Series))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(p.Title))
	if math.IsInf(lo, 1) {
		fmt.Fprintf(&b, `<text x="%d" y="%d">no latencies to plot</text></svg>`, padL, plotH/2)
		return b.String()
	}
	ticks := logTicks(lo, hi)
	lo, hi = math.Min(lo, ticks[0]), math.Max(hi, ticks[len(ticks)-1])
	if hi/lo < 1.5 {
		lo, hi = lo/1.25, hi*1.25
	}
	x := func(q float64) float64 {
		return padL + (logit(q)-logit(qMin))/(logit(qMax)-logit(qMin))*innerW
	}
	y := func(v float64) float64 {
		return padT + innerH - (math.Log(v)-math.Log(lo))/(math.Log(hi)-math.Log(lo))*innerH
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

	fmt.Fprintf(&b, `<text x="%d" y="16" font-weight="600">%s</text>`, padL, html.EscapeString(p.Title))
	// Axes and grid.
	for _, t := range ticks {
		if t < lo || t > hi {
			continue
		}
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s"/>`, padL, padL+innerW, f(y(t)), f(y(t)))
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`, padL-6, f(y(t)), msLabel(t))
	}
	for _, q := range []float64{0.01, 0.1, 0.5, 0.9, 0.99, 0.999} {
		fmt.Fprintf(&b, `<line class="grid" x1="%s" x2="%s" y1="%d" y2="%d"/>`, f(x(q)), f(x(q)), padT, padT+innerH)
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`, f(x(q)), padT+innerH+14, qLabel(q))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%d" y1="%d" y2="%d"/>`, padL, padL, padT, padT+innerH)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%d" y1="%d" y2="%d"/>`, padL, padL+innerW, padT+innerH, padT+innerH)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">quantile (logit scale: both tails spread out)</text>`, padL+innerW/2, plotH-6)
	yl := p.YLabel
	if yl == "" {
		yl = "latency, ms (log scale)"
	}
	fmt.Fprintf(&b, `<text transform="translate(14 %d) rotate(-90)" text-anchor="middle">%s</text>`, padT+innerH/2, html.EscapeString(yl))

	// Series: a line and a marker per point, each with a tooltip.
	for i, s := range p.Series {
		st := seriesStyles[i%len(seriesStyles)]
		var pts []string
		var marks strings.Builder
		n := 0
		for k := range s.Q {
			if k >= len(s.Y) || !valid(s.Y[k]) || s.Q[k] <= 0 || s.Q[k] >= 1 {
				continue
			}
			px, py := x(s.Q[k]), y(s.Y[k])
			pts = append(pts, f(px)+","+f(py))
			marks.WriteString(marker(st.marker, px, py, st.colour, 3.2,
				fmt.Sprintf("%s: %s at %s", s.Name, msLabel(s.Y[k]), qLabel(s.Q[k]))))
			n++
		}
		fmt.Fprintf(&b, `<g class="series" data-name="%s" data-points="%d">`, html.EscapeString(s.Name), n)
		if len(pts) > 1 {
			dash := ""
			if st.dash != "" {
				dash = ` stroke-dasharray="` + st.dash + `"`
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`, st.colour, dash, strings.Join(pts, " "))
		}
		b.WriteString(marks.String())
		b.WriteString(`</g>`)
	}
	// Marks with intervals, drawn as error bars with caps.
	if len(p.Marks) > 0 {
		b.WriteString(`<g class="marks">`)
		for _, m := range p.Marks {
			if !valid(m.Y) {
				continue
			}
			st := seriesStyles[m.Series%len(seriesStyles)]
			px := x(m.Q) + 5 // beside the curve's own marker
			tip := fmt.Sprintf("%s %s", m.Label, msLabel(m.Y))
			if valid(m.Lo) && valid(m.Hi) {
				tip += fmt.Sprintf(", interval %s to %s", msLabel(m.Lo), msLabel(m.Hi))
				fmt.Fprintf(&b, `<g class="interval" stroke="%s" stroke-width="1.5"><line x1="%s" x2="%s" y1="%s" y2="%s"/><line x1="%s" x2="%s" y1="%s" y2="%s"/><line x1="%s" x2="%s" y1="%s" y2="%s"/><title>%s</title></g>`,
					st.colour, f(px), f(px), f(y(m.Lo)), f(y(m.Hi)),
					f(px-3), f(px+3), f(y(m.Lo)), f(y(m.Lo)), f(px-3), f(px+3), f(y(m.Hi)), f(y(m.Hi)), html.EscapeString(tip))
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="10">%s</text>`, f(px+4), f(y(m.Y)-4), html.EscapeString(m.Label))
		}
		b.WriteString(`</g>`)
	}
	// Legend.
	lx := float64(plotW - padR)
	for i := len(p.Series) - 1; i >= 0; i-- {
		st := seriesStyles[i%len(seriesStyles)]
		name := html.EscapeString(p.Series[i].Name)
		w := 34 + 6.5*float64(len([]rune(p.Series[i].Name)))
		lx -= w
		dash := ""
		if st.dash != "" {
			dash = ` stroke-dasharray="` + st.dash + `"`
		}
		fmt.Fprintf(&b, `<g class="legend"><line x1="%s" x2="%s" y1="12" y2="12" stroke="%s" stroke-width="2"%s/>%s<text x="%s" y="16">%s</text></g>`,
			f(lx), f(lx+22), st.colour, dash, marker(st.marker, lx+11, 12, st.colour, 3.2, ""), f(lx+26), name)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// marker draws a point of a series; shape carries the series in greyscale.
func marker(shape string, x, y float64, colour string, r float64, tip string) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	title := ""
	if tip != "" {
		title = "<title>" + html.EscapeString(tip) + "</title>"
	}
	switch shape {
	case "square":
		return fmt.Sprintf(`<rect class="pt" x="%s" y="%s" width="%s" height="%s" fill="%s">%s</rect>`, f(x-r), f(y-r), f(2*r), f(2*r), colour, title)
	case "diamond":
		return fmt.Sprintf(`<polygon class="pt" points="%s,%s %s,%s %s,%s %s,%s" fill="%s">%s</polygon>`,
			f(x), f(y-r*1.3), f(x+r*1.3), f(y), f(x), f(y+r*1.3), f(x-r*1.3), f(y), colour, title)
	case "triangle":
		return fmt.Sprintf(`<polygon class="pt" points="%s,%s %s,%s %s,%s" fill="%s">%s</polygon>`,
			f(x), f(y-r*1.3), f(x+r*1.2), f(y+r), f(x-r*1.2), f(y+r), colour, title)
	default:
		return fmt.Sprintf(`<circle class="pt" cx="%s" cy="%s" r="%s" fill="%s">%s</circle>`, f(x), f(y), f(r), colour, title)
	}
}

// logTicks are 1-2-5 ticks covering [lo, hi], at most about eight of them.
func logTicks(lo, hi float64) []float64 {
	var ticks []float64
	for _, steps := range [][]float64{{1, 2, 5}, {1, 3}, {1}} {
		ticks = ticks[:0]
		for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
			for _, m := range steps {
				ticks = append(ticks, m*math.Pow(10, e))
			}
		}
		// keep the ticks inside, plus one on either side
		first, last := 0, len(ticks)-1
		for first+1 < len(ticks) && ticks[first+1] <= lo {
			first++
		}
		for last-1 >= 0 && ticks[last-1] >= hi {
			last--
		}
		ticks = ticks[first : last+1]
		if len(ticks) <= 9 {
			return ticks
		}
	}
	return ticks
}

// msLabel formats a latency for an axis or tooltip.
func msLabel(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'g', 3, 64) + " s"
	case v >= 1:
		return strconv.FormatFloat(v, 'g', 3, 64) + " ms"
	default:
		return strconv.FormatFloat(v*1000, 'g', 3, 64) + " µs"
	}
}

func qLabel(q float64) string {
	return "p" + strconv.FormatFloat(q*100, 'f', -1, 64)
}

// Levels are the quantiles the reports' curves are drawn at.
var Levels = []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999}

// Reaches says whether a sample of n values reaches quantile level q: a tail level needs at
// least 1/(1-q) values (the "P99.9" of 50 values is only their maximum, drawn as if it were more).
func Reaches(n int, q float64) bool { return n > 0 && (q <= 0.5 || float64(n)*(1-q) >= 1) }

// Curve is the quantile curve of values (any order) at Levels, by linear interpolation between
// order statistics; NaN at the levels the sample does not reach.
func Curve(values []float64) []float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	c := make([]float64, len(Levels))
	for i, q := range Levels {
		if !Reaches(len(s), q) {
			c[i] = math.NaN()
			continue
		}
		h := q * float64(len(s)-1)
		lo := int(h)
		hi := min(lo+1, len(s)-1)
		c[i] = s[lo] + (h-float64(lo))*(s[hi]-s[lo])
	}
	return c
}
