package fedouble

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/srctl/srctl/analyze/profile"
)

// profileShape is what makes a profile cheap or dear to collect: how long its lines are, how many
// of them are entries ("- key: value") and how often an operator starts.
type profileShape struct {
	bytesPerLine, entryShare, operatorsPerKB float64
}

func shapeOf(text string) profileShape {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	entries, operators := 0, 0
	for _, l := range lines {
		c := strings.TrimSpace(l)
		switch {
		case c == "-" || strings.HasPrefix(c, "- "):
			entries++
		case strings.HasSuffix(c, "):") && strings.Contains(c, "(plan_node_id="):
			operators++
		}
	}
	return profileShape{
		bytesPerLine:   float64(len(text)) / float64(len(lines)),
		entryShare:     float64(entries) / float64(len(lines)),
		operatorsPerKB: float64(operators) * 1000 / float64(len(text)),
	}
}

// TestGeneratedProfileHasTheSamplesShape holds the benchmark's 40 KB profiles to the shape of the
// real profiles in ../shared/starrocks/samples, so that the collector's benchmark measures the
// cost of real profiles: its earlier compact fragments had ten times the operators per KB and
// cost twice as much per byte to scan.
func TestGeneratedProfileHasTheSamplesShape(t *testing.T) {
	samples, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "starrocks", "samples", "profile-*.txt"))
	if len(samples) == 0 && os.Getenv("SRCTL_TEST_DISALLOW_SKIP") == "1" {
		t.Fatal("the sample profiles are missing and SRCTL_TEST_DISALLOW_SKIP=1")
	}
	lo := profileShape{bytesPerLine: 40, entryShare: 0.9, operatorsPerKB: 0.1}
	hi := profileShape{bytesPerLine: 60, entryShare: 1, operatorsPerKB: 0.5}
	within := func(s profileShape) bool {
		return s.bytesPerLine >= lo.bytesPerLine && s.bytesPerLine <= hi.bytesPerLine &&
			s.entryShare >= lo.entryShare && s.entryShare <= hi.entryShare &&
			s.operatorsPerKB >= lo.operatorsPerKB && s.operatorsPerKB <= hi.operatorsPerKB
	}
	for _, name := range samples {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if s := shapeOf(string(b)); !within(s) {
			t.Errorf("sample %s has shape %+v, outside the range this test allows (%+v to %+v): widen it from the samples", filepath.Base(name), s, lo, hi)
		}
	}
	for _, size := range []int{12_000, 40_000, 200_000} {
		text := GenerateProfile("q-1", "SELECT a FROM t WHERE x = 'y'", "FINISHED", size)
		if s := shapeOf(text); !within(s) {
			t.Errorf("%d bytes asked: shape %+v, want within %+v to %+v", size, s, lo, hi)
		}
		if d := len(text) - size; d < -1024 || d > 2048 {
			t.Errorf("%d bytes asked, %d generated", size, len(text))
		}
		if !strings.HasSuffix(text, "\n") {
			t.Errorf("%d bytes asked: the text does not end with a whole line", size)
		}
		h := profile.ScanHeadlines(text)
		if h.ScanOperators == 0 || len(h.TopOperators) == 0 || h.ScanBytes == 0 || h.CPUNS == 0 {
			t.Errorf("%d bytes asked: headlines %+v lack scan operators, top operators, scan bytes or CPU", size, h)
		}
		if want := profile.Parse(text).Headlines(); !reflect.DeepEqual(h, want) {
			t.Errorf("%d bytes asked: the scan and the parse disagree:\n scan  %+v\n parse %+v", size, h, want)
		}
	}
}

// TestSmallGeneratedProfilesKeepScanOperators: tests serve hundreds of profiles of a kilobyte or
// two, which keep the compact fragments and must still carry the headlines the collector records.
func TestSmallGeneratedProfilesKeepScanOperators(t *testing.T) {
	for _, size := range []int{500, 2000, 8000, 9000} {
		h := profile.ScanHeadlines(GenerateProfile("q-1", "SELECT 1", "FINISHED", size))
		if h.ScanOperators == 0 || len(h.TopOperators) == 0 {
			t.Errorf("%d bytes asked: headlines %+v lack scan or top operators", size, h)
		}
	}
}
