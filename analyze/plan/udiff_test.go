package plan

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestUnifiedDiffFormat(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	b := "a\nb\nC\nd\ne\nf\ng\nh\ni\nj\nk\n"
	want := "--- x\n+++ y\n@@ -1,5 +1,5 @@\n a\n b\n-c\n+C\n d\n e\n@@ -9,2 +9,3 @@\n i\n j\n+k\n"
	if got := UnifiedDiff("x", "y", a, b, 2); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if UnifiedDiff("x", "y", a, a, 3) != "" {
		t.Error("equal texts gave a diff")
	}
	if got := UnifiedDiff("x", "y", "", "new\n", 3); got != "--- x\n+++ y\n@@ -0,0 +1,1 @@\n+new\n" {
		t.Errorf("from empty: %q", got)
	}
}

// TestEditScriptIsShortestAndValid checks the Myers script on random texts: it turns a into b,
// and its length matches the longest common subsequence computed the slow way.
func TestEditScriptIsShortestAndValid(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		a, b := randLines(r), randLines(r)
		ops := editScript(a, b)
		var gotA, gotB []string
		edits := 0
		for _, o := range ops {
			if o.kind != '+' {
				gotA = append(gotA, o.text)
			}
			if o.kind != '-' {
				gotB = append(gotB, o.text)
			}
			if o.kind != ' ' {
				edits++
			}
		}
		if strings.Join(gotA, "\n") != strings.Join(a, "\n") || strings.Join(gotB, "\n") != strings.Join(b, "\n") {
			t.Fatalf("script does not turn %q into %q: %+v", a, b, ops)
		}
		if want := len(a) + len(b) - 2*lcs(a, b); edits != want {
			t.Fatalf("%q -> %q: %d edits, shortest is %d", a, b, edits, want)
		}
	}
}

func randLines(r *rand.Rand) []string {
	n := r.IntN(9)
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('a' + r.IntN(4)))
	}
	return out
}

func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// TestEditScriptFallsBackBeyondMaxDistance: texts with nothing in common past the search bound
// still get a valid (delete all, insert all) script, in bounded memory.
func TestEditScriptFallsBackBeyondMaxDistance(t *testing.T) {
	var a, b []string
	for i := 0; i < maxEditDistance; i++ {
		a = append(a, "a"+strconv.Itoa(i))
		b = append(b, "b"+strconv.Itoa(i))
	}
	ops := editScript(a, b)
	if len(ops) != 2*maxEditDistance || ops[0].kind != '-' || ops[len(ops)-1].kind != '+' {
		t.Fatalf("%d ops, first %c last %c", len(ops), ops[0].kind, ops[len(ops)-1].kind)
	}
	if d := UnifiedDiff("a", "b", "x\n"+strings.Join(a, "\n"), "x\n"+strings.Join(b, "\n"), 1); !strings.HasPrefix(d, "--- a\n+++ b\n@@ -1,") {
		t.Fatalf("diff head %q", d[:min(len(d), 60)])
	}
}
