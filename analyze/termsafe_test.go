package analyze

import "testing"

func TestTerminalSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain /api/v1/x":        "plain /api/v1/x",
		"a\x1b[2Jb":              "a\uFFFD[2Jb",
		"title\x1b]0;x\x07":      "title\uFFFD]0;x\uFFFD",
		"c1 \u009b31m":           "c1 \uFFFD31m",
		"line\nbreak\ttab\r":     "line break tab ",
		"bad utf8 \xff":          "bad utf8 \uFFFD",
		"del\x7f, unicode é → ✓": "del\uFFFD, unicode é → ✓",
	} {
		if got := terminalSafe(in); got != want {
			t.Errorf("terminalSafe(%q) = %q, want %q", in, got, want)
		}
	}
	rep := &ValidateReport{Endpoints: []ValidateEndpoint{{Endpoint: "e\x1b", Why: []string{"w\x1b"},
		Errors: ErrorChange{New: []ErrorKindSet{{Error: "x\x1b"}}}}}, Warnings: []string{"\x1b"}}
	TerminalSafe(rep)
	e := rep.Endpoints[0]
	if e.Endpoint != "e\uFFFD" || e.Why[0] != "w\uFFFD" || e.Errors.New[0].Error != "x\uFFFD" || rep.Warnings[0] != "\uFFFD" {
		t.Errorf("TerminalSafe left control characters: %+v %q", e, rep.Warnings)
	}
}
