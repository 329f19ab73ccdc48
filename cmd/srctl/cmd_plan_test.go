package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

const planFixtures = "../../analyze/plan/testdata/"

func TestPlanDiffGolden(t *testing.T) {
	a, b := planFixtures+"join3-a.txt", planFixtures+"join3-b.txt"
	for _, format := range []string{"text", "markdown", "json"} {
		code, out, stderr := runCLI(context.Background(), "plan", "diff", "--format", format, a, b)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		golden(t, "plan-diff."+format+".golden", out)
	}
	var d struct {
		Same    bool `json:"same_plan"`
		Changes []struct {
			Kind string `json:"kind"`
		} `json:"changes"`
	}
	_, out, _ := runCLI(context.Background(), "plan", "diff", "--format", "json", a, b)
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Same || len(d.Changes) < 5 {
		t.Fatalf("json: %v %+v", err, d)
	}
}

func TestPlanDiffSamePlanAndExitCodes(t *testing.T) {
	a, same, b := planFixtures+"join3-a.txt", planFixtures+"join3-a-restats.txt", planFixtures+"join3-b.txt"
	code, out, stderr := runCLI(context.Background(), "plan", "diff", "--fail-on-change", a, same)
	if code != exitOK || !strings.HasPrefix(out, "same plan") {
		t.Fatalf("same plan: exit %d out %q stderr %q", code, out, stderr)
	}
	golden(t, "plan-diff-same.golden", out)
	if code, _, stderr := runCLI(context.Background(), "plan", "diff", "--fail-on-change", a, b); code != exitFailure || !strings.Contains(stderr, "plan changed") {
		t.Fatalf("changed plan with --fail-on-change: exit %d %q", code, stderr)
	}
	if code, _, _ := runCLI(context.Background(), "plan", "diff", a, b); code != exitOK {
		t.Fatalf("changed plan without --fail-on-change: exit %d", code)
	}
	if code, _, stderr := runCLI(context.Background(), "plan", "diff", "--format", "yaml", a, b); code != exitUsage || !strings.Contains(stderr, "--format") {
		t.Fatalf("bad format: exit %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(context.Background(), "plan", "diff", a, "/no/such/plan.txt"); code != exitUsage || !strings.Contains(stderr, "/no/such/plan.txt") {
		t.Fatalf("missing file: exit %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(context.Background(), "plan", "diff", a, "../../README.md"); code != exitUsage || !strings.Contains(stderr, "no plan found") {
		t.Fatalf("not a plan: exit %d %q", code, stderr)
	}
}

func TestPlanShowGolden(t *testing.T) {
	for name, file := range map[string]string{"text": "join3-a.txt", "logical": "logical-mv.txt", "mariadb": "mariadb-join.json"} {
		code, out, stderr := runCLI(context.Background(), "plan", "show", planFixtures+file)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		golden(t, "plan-show-"+name+".golden", out)
	}
	code, out, stderr := runCLI(context.Background(), "plan", "show", "--format", "json", planFixtures+"join3-a.txt")
	var parsed struct {
		Structure struct {
			JoinTree string `json:"join_tree"`
		} `json:"structure"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &parsed) != nil || parsed.Structure.JoinTree != "((store_sales ⋈ date_dim) ⋈ store)" {
		t.Fatalf("json: exit %d %q %+v", code, stderr, parsed)
	}
}
