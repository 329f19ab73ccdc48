package termsafe

import "testing"

type endpoint struct {
	Endpoint string
	Why      []string
	Errors   []struct{ Error string }
}

type report struct {
	Endpoints []endpoint
	Warnings  []string
	ByName    map[string]string
	hidden    string
}

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
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
	rep := &report{Endpoints: []endpoint{{Endpoint: "e\x1b", Why: []string{"w\x1b"}, Errors: []struct{ Error string }{{"x\x1b"}}}},
		Warnings: []string{"\x1b"}, ByName: map[string]string{"k": "v\x07"}, hidden: "\x1b"}
	Report(rep)
	e := rep.Endpoints[0]
	if e.Endpoint != "e\uFFFD" || e.Why[0] != "w\uFFFD" || e.Errors[0].Error != "x\uFFFD" || rep.Warnings[0] != "\uFFFD" || rep.ByName["k"] != "v\uFFFD" {
		t.Errorf("Report left control characters: %+v %q %q", e, rep.Warnings, rep.ByName)
	}
	if rep.hidden != "\x1b" {
		t.Errorf("an unexported field was changed")
	}
}

func TestMarkdown(t *testing.T) {
	if got := Markdown("![x](http://a/p.png) <img>|\x1b[2J\n#"); got != `\!\[x\](http://a/p.png) \<img\>\|`+"\uFFFD"+`\[2J \#` {
		t.Errorf("Markdown: %q", got)
	}
	if got := MarkdownCodeCell("a`b|c\x07"); got != "`a'b\\|c\uFFFD`" {
		t.Errorf("MarkdownCodeCell: %q", got)
	}
}
