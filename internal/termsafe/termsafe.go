// Package termsafe keeps text that came from outside (a client's SQL, its sqlcommenter route, a
// server's error message) from reaching a terminal or a PR as escape sequences.
package termsafe

import (
	"reflect"
	"strings"
	"unicode/utf8"
)

// Report replaces, in place, the control characters of every exported string reachable
// from v (a report: a pointer to a struct) with U+FFFD, and tabs and line breaks with spaces. Log
// rows cross a trust boundary: a client chooses its SQL text, its sqlcommenter route and, through
// the server's error messages, part of the errors' text, so a report printed to a terminal or
// pasted into a PR must not carry their escape sequences (a changed window title, a hidden line,
// a rewritten screen). The CLI calls it before the table and Markdown formats; JSON escapes
// control characters itself and keeps the logs' text exactly.
func Report(v any) {
	cleanValue(reflect.ValueOf(v))
}

func cleanValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			cleanValue(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				cleanValue(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			cleanValue(v.Index(i))
		}
	case reflect.Map:
		if v.Type().Elem().Kind() == reflect.String {
			for _, k := range v.MapKeys() {
				v.SetMapIndex(k, reflect.ValueOf(String(v.MapIndex(k).String())).Convert(v.Type().Elem()))
			}
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(String(v.String()))
		}
	}
}

// terminalSafe is s without control characters (C0, DEL, C1) or invalid UTF-8.
func String(s string) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case unsafeRune(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r == utf8.RuneError
}

// Markdown escapes the Markdown in text that came from outside (a route, an error message, a
// server's version string), so that a client cannot put a link, an image, HTML or a heading into
// a PR comment; control characters go as String does, line breaks become spaces, which keeps
// table cells and list items whole.
func Markdown(s string) string { return mdEscaper.Replace(String(s)) }

var mdEscaper = strings.NewReplacer("\\", "\\\\", "`", "\\`", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]", "<", "\\<", ">", "\\>",
	"!", "\\!", "|", "\\|", "#", "\\#", "\n", " ", "\r", " ")

// MarkdownCodeCell is s as an inline code span in a Markdown table cell: backticks cannot be
// escaped inside one, so they become quotes; pipes would still split the cell.
func MarkdownCodeCell(s string) string {
	return "`" + codeCell.Replace(String(s)) + "`"
}

var codeCell = strings.NewReplacer("`", "'", "|", "\\|", "\n", " ", "\r", " ")
