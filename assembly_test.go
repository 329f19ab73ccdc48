package srctl_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The vector code's discipline. A legacy-SSE instruction (MOVQ AX, X8: no VEX prefix) executed
// while the upper halves of the YMM registers hold data costs a state transition on Intel
// processors, and on some virtual machines a very dear one: on an Intel host of 2026-12 one
// MOVQ after a VPBROADCASTB took ~120 ns, and structureBlocksAVX2's three made it 10x slower
// than its SSE2 twin (265 against 24 ns for 576 bytes). Functions that use YMM or ZMM registers
// therefore encode every vector instruction with VEX (VMOVQ, not MOVQ) and clear the upper
// halves (VZEROUPPER) before every RET, so that the Go code after them, which the compiler
// writes with legacy SSE, pays nothing either.

var (
	wideRegister   = regexp.MustCompile(`\b[YZ]([0-9]|[12][0-9]|3[01])\b`)
	vectorRegister = regexp.MustCompile(`\b[XYZ]([0-9]|[12][0-9]|3[01])\b`)
)

// asmProblems returns the discipline's violations in one amd64 assembly file, as "line: why",
// and how many of its functions use YMM or ZMM registers.
func asmProblems(lines []string) (problems []string, wideFuncs int) {
	type fn struct {
		name  string
		start int
		body  []string
	}
	var fns []fn
	for i, l := range lines {
		code := strings.TrimSpace(strings.SplitN(l, "//", 2)[0])
		if strings.HasPrefix(code, "TEXT ") {
			fns = append(fns, fn{name: strings.Fields(code)[1], start: i})
		}
		if len(fns) > 0 {
			fns[len(fns)-1].body = append(fns[len(fns)-1].body, code)
		}
	}
	for _, f := range fns {
		wide := false
		for _, code := range f.body {
			if wideRegister.MatchString(code) && !strings.HasPrefix(code, "TEXT ") {
				wide = true
			}
		}
		if !wide {
			continue // SSE-only code: legacy encodings are what it is for
		}
		wideFuncs++
		// Walk the body in order. The upper state is clean at entry, dirty after a wide
		// instruction and unknown (taken as dirty) at a label, which a jump may reach.
		dirty := false
		for k, code := range f.body[1:] {
			line := f.start + 2 + k
			if code == "" {
				continue
			}
			if strings.HasSuffix(code, ":") {
				dirty = true
				continue
			}
			op := strings.Fields(code)[0]
			switch {
			case op == "VZEROUPPER" || op == "VZEROALL":
				dirty = false
			case op == "RET" && dirty:
				problems = append(problems, f.name+" line "+strconv.Itoa(line)+": RET without VZEROUPPER since the last YMM/ZMM instruction")
			case vectorRegister.MatchString(code) && !strings.HasPrefix(op, "V"):
				problems = append(problems, f.name+" line "+strconv.Itoa(line)+": "+op+" is a legacy-SSE encoding in a function that uses YMM/ZMM registers (use its V form)")
			}
			if wideRegister.MatchString(code) {
				dirty = true
			}
		}
	}
	return problems, wideFuncs
}

func TestVectorCodeDoesNotMixLegacySSE(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, "_amd64.s") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no amd64 assembly found: the test would check nothing")
	}
	checked := 0
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		problems, wide := asmProblems(lines)
		checked += wide
		for _, p := range problems {
			t.Errorf("%s: %s", name, p)
		}
	}
	if checked == 0 {
		t.Fatal("no function uses YMM registers: the check would pass on nothing")
	}
}

// TestAsmProblemsFindsTheMistakes holds the checker to the two mistakes it is for, and to code
// that makes neither.
func TestAsmProblemsFindsTheMistakes(t *testing.T) {
	for _, c := range []struct {
		name string
		src  string
		want int
	}{
		{"legacy MOVQ after a broadcast", "TEXT ·f(SB), $0\n\tMOVL $1, AX\n\tVMOVQ AX, X1\n\tVPBROADCASTB X1, Y1\n\tMOVQ AX, X2\n\tVZEROUPPER\n\tRET\n", 1},
		{"no VZEROUPPER", "TEXT ·f(SB), $0\n\tVPXOR Y0, Y0, Y0\n\tRET\n", 1},
		{"a label's path without VZEROUPPER", "TEXT ·f(SB), $0\n\tVPXOR Y0, Y0, Y0\n\tVZEROUPPER\n\tJMP done\ndone:\n\tRET\n", 1},
		{"clean", "TEXT ·f(SB), $0\n\tVMOVQ AX, X1 // a comment with MOVQ X1\n\tVPBROADCASTB X1, Y1\nloop:\n\tVPCMPEQB Y1, Y0, Y0\n\tVZEROUPPER\n\tRET\n", 0},
		{"SSE-only code", "TEXT ·g(SB), $0\n\tMOVQ AX, X1\n\tPXOR X0, X0\n\tRET\n", 0},
	} {
		if got, _ := asmProblems(strings.Split(c.src, "\n")); len(got) != c.want {
			t.Errorf("%s: %d problems %q, want %d", c.name, len(got), got, c.want)
		}
	}
}
