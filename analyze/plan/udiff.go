package plan

import (
	"fmt"
	"strings"
)

// UnifiedDiff returns a unified diff of two texts, line by line, with context lines of context
// around each change ("" when they are equal). It uses Myers' O(ND) shortest edit script, which
// keeps large plans with few changes cheap.
func UnifiedDiff(nameA, nameB, a, b string, context int) string {
	if a == b {
		return ""
	}
	la, lb := splitLines(a), splitLines(b)
	ops := editScript(la, lb)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	// Group ops into hunks: runs of changes with at most 2*context equal lines between them.
	i := 0
	for i < len(ops) {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(0, i-context)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(len(ops), end+context)
				break
			}
			end = run
		}
		writeHunk(&out, ops[start:end])
		i = end
	}
	return out.String()
}

// maxEditDistance bounds the Myers search (about 32 MB of saved rounds).
const maxEditDistance = 2000

type editOp struct {
	kind       byte // ' ', '-', '+'
	text       string
	lineA, lnB int // 1-based line in a / b before this op
}

func writeHunk(out *strings.Builder, ops []editOp) {
	var na, nb int
	for _, o := range ops {
		if o.kind != '+' {
			na++
		}
		if o.kind != '-' {
			nb++
		}
	}
	startA, startB := ops[0].lineA, ops[0].lnB
	if na == 0 {
		startA--
	}
	if nb == 0 {
		startB--
	}
	fmt.Fprintf(out, "@@ -%d,%d +%d,%d @@\n", startA, na, startB, nb)
	for _, o := range ops {
		out.WriteByte(o.kind)
		out.WriteString(o.text)
		out.WriteByte('\n')
	}
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// editScript computes a shortest edit script from a to b (Myers 1986, greedy forward search
// keeping each round's furthest-reaching paths for the backtrack).
func editScript(a, b []string) []editOp {
	n, m := len(a), len(b)
	// Rounds cost memory quadratic in D: past maxEditDistance the texts share little anyway,
	// and the script becomes "delete all of a, insert all of b".
	maxD := min(n+m, maxEditDistance)
	offset := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	found := false
	for d := 0; d <= maxD && !found; d++ {
		// Keep only the diagonals round d can read (-d-1..d+1): memory grows with D², not D·(N+M).
		snapshot := make([]int, 2*d+3)
		copy(snapshot, v[offset-d-1:offset+d+2])
		trace = append(trace, snapshot)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1] // down: insertion from b
			} else {
				x = v[offset+k-1] + 1 // right: deletion from a
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[offset+k] = x
			if x >= n && y >= m {
				found = true
				break
			}
		}
	}
	if !found {
		ops := make([]editOp, 0, n+m)
		for i, l := range a {
			ops = append(ops, editOp{kind: '-', text: l, lineA: i + 1, lnB: 1})
		}
		for j, l := range b {
			ops = append(ops, editOp{kind: '+', text: l, lineA: n + 1, lnB: j + 1})
		}
		return ops
	}
	// Backtrack from (n, m) through the saved rounds.
	var rev []editOp
	x, y := n, m
	for d := len(trace) - 1; d >= 0 && (x > 0 || y > 0); d-- {
		vd := trace[d]
		at := func(k int) int { return vd[k+d+1] }
		k := x - y
		var prevK int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		if d == 0 {
			prevX, prevY = 0, 0
		}
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, editOp{kind: ' ', text: a[x], lineA: x + 1, lnB: y + 1})
		}
		if d > 0 {
			if x == prevX {
				y--
				rev = append(rev, editOp{kind: '+', text: b[y], lineA: x + 1, lnB: y + 1})
			} else {
				x--
				rev = append(rev, editOp{kind: '-', text: a[x], lineA: x + 1, lnB: y + 1})
			}
		}
	}
	ops := make([]editOp, len(rev))
	for i := range rev {
		ops[i] = rev[len(rev)-1-i]
	}
	return ops
}
