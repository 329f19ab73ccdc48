package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReportsAreTerminalAndMarkdownSafe: a client controls its SQL text (and so the endpoint
// name and, through the server, error messages); the table and Markdown reports of diff and
// validate must carry none of its escape sequences or Markdown.
func TestReportsAreTerminalAndMarkdownSafe(t *testing.T) {
	start := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	// A route that clears the screen and sets the window title; an error with an image link.
	logs := hostileLogs(t, start, `\u001b[2J\u001b]0;pwned\u0007/evil![x](http://attacker.example/p.png)`,
		`syntax error near '\u001b[31m<img src=x>![y](http://attacker.example/q.png)'`)
	for _, args := range [][]string{
		{"diff", "--color", "never", logs},
		{"diff", "--format", "markdown", logs},
		{"diff", "--color", "never", "--endpoint", "x", logs},
		{"validate", "--color", "never", "--change-at", start.Add(30 * time.Minute).Format(time.RFC3339), logs},
		{"validate", "--format", "markdown", "--change-at", start.Add(30 * time.Minute).Format(time.RFC3339), logs},
	} {
		code, out, stderr := runCLI(context.Background(), args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("%v: output carries a control character from the logs:\n%q", args, out)
		}
		if !strings.Contains(out, "pwned") && !strings.Contains(out, "attacker") {
			t.Errorf("%v: the hostile endpoint is not in the report at all:\n%s", args, out)
		}
		// Inside a code span Markdown is literal text: look outside them.
		outside := regexp.MustCompile("`[^`\n]*`").ReplaceAllString(out, "")
		// Escaped (\] \<) is literal text; unescaped would be a link or HTML.
		if args[1] == "--format" && regexp.MustCompile(`(^|[^\\])(\]\(http|<img)`).MatchString(outside) {
			t.Errorf("%v: Markdown from the logs reaches the report:\n%s", args, out)
		}
	}
}

// hostileLogs writes an hour of mirrored rows whose SQL carries route (in JSON string syntax:
// \u escapes pass through to the decoder) and whose every other shadow row failed with errText.
func hostileLogs(t *testing.T, start time.Time, route, errText string) string {
	t.Helper()
	logs := filepath.Join(t.TempDir(), "logs.jsonl")
	var b strings.Builder
	for i := range 60 {
		ts := start.Add(time.Duration(i) * time.Minute).Format(time.RFC3339Nano)
		sql := fmt.Sprintf(`SELECT %d /*route='%s'*/`, i, route)
		for _, target := range []string{"primary", "shadow"} {
			ok, errField := "true", ""
			if target == "shadow" && i%2 == 0 {
				ok, errField = "false", fmt.Sprintf(`,"error":%q`, errText)
			}
			fmt.Fprintf(&b, `{"ts":%q,"query_id":"q%d","target":%q,"command":"COM_QUERY","query_text":%q,"duration_ms":%d,"bytes_sent":10,"bytes_recv":900,"success":%s%s,"client_addr":"10.0.0.1:1"}`+"\n",
				ts, i, target, sql, 5+i%3, ok, errField)
		}
	}
	// %q escaped the backslashes of the JSON escapes: undo that so the decoder sees \u001b.
	if err := os.WriteFile(logs, []byte(strings.ReplaceAll(b.String(), `\\u`, `\u`)), 0o644); err != nil {
		t.Fatal(err)
	}
	return logs
}
