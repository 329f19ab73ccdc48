package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srctl/srctl/internal/testenv"
)

// golden compares got with testdata/name (go test -update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got)
}

const handProfile = "../../analyze/profile/testdata/hand-3x.txt"

func TestProfileShowGolden(t *testing.T) {
	code, out, stderr := runCLI(context.Background(), "profile", "show", handProfile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "profile-show.golden", out)

	code, out, stderr = runCLI(context.Background(), "profile", "show", "--format", "json", handProfile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var parsed struct {
		Headline struct {
			CPUNS int64 `json:"cpu_ns"`
		} `json:"headline"`
		Tree struct {
			Kind string `json:"kind"`
		} `json:"tree"`
	}
	if err := json.Unmarshal([]byte(out), &parsed); err != nil || parsed.Headline.CPUNS != 1200e6 || parsed.Tree.Kind != "query" {
		t.Fatalf("json output: %v %+v", err, parsed)
	}
	golden(t, "profile-show.json.golden", out)
}

func TestProfileShowInputsAndErrors(t *testing.T) {
	data, err := os.ReadFile(handProfile)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	root := newRootCmd(&out, &out)
	root.SetIn(strings.NewReader(string(data)))
	root.SetArgs([]string{"profile", "show", "-"})
	if err := root.ExecuteContext(context.Background()); err != nil || !strings.Contains(out.String(), "Query 11111111-2222-3333-4444-555555555555") {
		t.Fatalf("stdin: %v\n%s", err, out.String())
	}
	if code, _, stderr := runCLI(context.Background(), "profile", "show", "/no/such/profile.txt"); code != exitUsage || !strings.Contains(stderr, "/no/such/profile.txt") {
		t.Fatalf("missing file: exit %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(context.Background(), "profile", "show", "--format", "yaml", handProfile); code != exitUsage || !strings.Contains(stderr, "--format") {
		t.Fatalf("bad format: exit %d %q", code, stderr)
	}
}

func TestProfileDiffGolden(t *testing.T) {
	a, b := "../../analyze/profile/testdata/diff-a.txt", "../../analyze/profile/testdata/diff-b.txt"
	for _, format := range []string{"table", "markdown", "json"} {
		code, out, stderr := runCLI(context.Background(), "profile", "diff", "--format", format, a, b)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		golden(t, "profile-diff."+format+".golden", out)
	}
	if code, _, stderr := runCLI(context.Background(), "profile", "diff", "-", "-"); code != exitUsage || !strings.Contains(stderr, "standard input") {
		t.Fatalf("two stdins: exit %d %q", code, stderr)
	}
}
