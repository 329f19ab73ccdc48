package htmlreport

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"math"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/srctl/srctl/internal/testenv"
)

const hostile = `</script><script>alert(1)</script><img src=x onerror=alert(2)>"'&`

func samplePage() *Page {
	q := Levels
	curve := func(scale float64) []float64 {
		y := make([]float64, len(q))
		for i, l := range q {
			y[i] = scale * math.Exp(3*l)
		}
		y[len(y)-1] = math.NaN() // a level the sample does not reach
		return y
	}
	return &Page{
		Title: "srctl test", Subtitle: "a page " + hostile, Status: "fail", StatusText: "1 regression",
		Headline: []Stat{{Label: "regressions", Value: "1", Class: "regression"}},
		Warnings: []string{"warning " + hostile},
		Table: &Table{ID: "endpoints", Columns: []Column{{Name: "Endpoint"}, {Name: "Verdict"}, {Name: "Pairs", Numeric: true}},
			Rows: []Row{
				{Verdict: "regression", Link: SectionID("ep", 0), Cells: []Cell{{Text: "/a" + hostile, Code: true}, {Text: "regression"}, Num("120", 120)}},
				{Verdict: "~", Cells: []Cell{{Text: "/b"}, {Text: "~"}, Num("-", math.NaN())}},
			}},
		Sections: []Section{{ID: SectionID("ep", 0), Title: "/a" + hostile, Verdict: "regression", Blocks: []Block{
			{KV: []KV{{Key: "pairs", Value: "120"}}},
			{Heading: "Sample SQL", Code: "SELECT 1 /* " + hostile + " */"},
			{Plot: &Plot{Title: "Latency " + hostile, Series: []Series{{Name: "primary", Q: q, Y: curve(10)}, {Name: "shadow" + hostile, Q: q, Y: curve(14)}},
				Marks: []Mark{{Series: 1, Label: "P50", Q: .5, Y: 14 * math.Exp(1.5), Lo: 20, Hi: 90}}}},
			{Items: []string{"item " + hostile}},
		}}},
		Appendix:  []Section{{ID: "method", Title: "Method", Blocks: []Block{{Text: "how"}}}},
		Generated: "srctl test, fixed time",
	}
}

// TestPageGolden pins the page's markup (go test -update rewrites it).
func TestPageGolden(t *testing.T) {
	var b bytes.Buffer
	if err := samplePage().Render(&b); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "testdata/page.golden.html", b.String())
}

// TestPageEscapesEverything: text from the logs never becomes markup, in HTML or in SVG.
func TestPageEscapesEverything(t *testing.T) {
	var b bytes.Buffer
	if err := samplePage().Render(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "<script"); n != 1 {
		t.Errorf("%d <script elements, want the page's own one", n)
	}
	for _, bad := range []string{"<img", "<script>alert"} {
		if strings.Contains(out, bad) {
			t.Errorf("the page carries %q from the text", bad)
		}
	}
	// Parsed as a browser would: no element the page does not make, no event handler.
	allowed := map[string]bool{}
	for _, el := range strings.Fields(`html head meta title style body header h1 h2 h3 span p div ul li main section label select option
		table thead tbody tr th td a code dl dt dd pre figure svg g line text polyline circle rect polygon footer script`) {
		allowed[el] = true
	}
	z := html.NewTokenizer(strings.NewReader(out))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if !allowed[tok.Data] {
			t.Errorf("element <%s> on the page", tok.Data)
		}
		for _, a := range tok.Attr {
			if strings.HasPrefix(a.Key, "on") || strings.Contains(strings.ToLower(a.Val), "javascript:") {
				t.Errorf("<%s %s=%q>: an event handler or script URL", tok.Data, a.Key, a.Val)
			}
		}
	}
	if !strings.Contains(out, "&lt;img src=x") {
		t.Error("the hostile text is not on the page, escaped")
	}
}

// TestPolicyPinsTheStyleAndScript: the policy's hashes are those of the style and script the
// page carries (a browser refuses both otherwise), and it allows no other source.
func TestPolicyPinsTheStyleAndScript(t *testing.T) {
	var b bytes.Buffer
	if err := samplePage().Render(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return base64.StdEncoding.EncodeToString(sum[:])
	}
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(out)
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(out)
	if style == nil || script == nil {
		t.Fatal("no style or script element")
	}
	policy := csp()
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-" + hash(style[1]) + "'", "script-src 'sha256-" + hash(script[1]) + "'"} {
		if !strings.Contains(policy, want) {
			t.Errorf("policy %q lacks %q", policy, want)
		}
	}
	if strings.Contains(policy, "unsafe") || strings.Contains(policy, "http") {
		t.Errorf("policy %q allows more than the page's own style and script", policy)
	}
}

func TestPlotShapes(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		plot   Plot
		points []string // data-points per series
		empty  bool
	}{
		{"no data", Plot{Title: "t", Series: []Series{{Name: "a", Q: []float64{.5}, Y: []float64{nan}}}}, []string{}, true},
		{"zeros and infinities left out", Plot{Title: "t", Series: []Series{{Name: "a", Q: []float64{.1, .5, .9}, Y: []float64{0, 5, math.Inf(1)}}}}, []string{"1"}, false},
		{"flat", Plot{Title: "t", Series: []Series{{Name: "a", Q: []float64{.1, .5, .9}, Y: []float64{5, 5, 5}}, {Name: "b", Q: []float64{.1, .5}, Y: []float64{5, 5}}}}, []string{"3", "2"}, false},
		{"levels outside (0,1) left out", Plot{Title: "t", Series: []Series{{Name: "a", Q: []float64{0, .5, 1}, Y: []float64{1, 2, 3}}}}, []string{"1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svg := tc.plot.SVG()
			if tc.empty != strings.Contains(svg, "no latencies to plot") {
				t.Errorf("empty=%v, got %s", tc.empty, svg)
			}
			got := regexp.MustCompile(`data-points="(\d+)"`).FindAllStringSubmatch(svg, -1)
			if len(got) != len(tc.points) {
				t.Fatalf("%d series drawn, want %d", len(got), len(tc.points))
			}
			for i, g := range got {
				if g[1] != tc.points[i] {
					t.Errorf("series %d: %s points, want %s", i, g[1], tc.points[i])
				}
			}
			if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
				t.Errorf("a coordinate is not a number: %s", svg)
			}
		})
	}
}

func TestLogTicks(t *testing.T) {
	for _, tc := range []struct{ lo, hi float64 }{{0.05, 0.07}, {1, 10}, {3, 4000}, {0.001, 1e6}, {250, 260}} {
		ticks := logTicks(tc.lo, tc.hi)
		if len(ticks) == 0 || len(ticks) > 10 || ticks[0] > tc.lo || ticks[len(ticks)-1] < tc.hi {
			t.Errorf("logTicks(%g, %g) = %v: want at most 10 ticks covering the range", tc.lo, tc.hi, ticks)
		}
	}
}

func TestCurve(t *testing.T) {
	v := make([]float64, 100)
	for i := range v {
		v[len(v)-1-i] = float64(i + 1) // any order
	}
	c := Curve(v)
	for i, q := range Levels {
		switch {
		case q > 0.99: // 100 values reach p99 but not p99.5 or p99.9
			if !math.IsNaN(c[i]) {
				t.Errorf("p%g of 100 values = %g, want NaN (not reached)", q*100, c[i])
			}
		case math.Abs(c[i]-(1+q*99)) > 1e-9:
			t.Errorf("p%g = %g, want %g", q*100, c[i], 1+q*99)
		}
	}
	if c := Curve(nil); !math.IsNaN(c[0]) {
		t.Errorf("the curve of nothing is %v", c)
	}
}
