package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The JSON profile format (FE config profile_info_format=json) is the same RuntimeProfile tree
// printed by a Gson formatter: every profile node is an object under its name ("Query",
// "Summary", "Fragment 0", "OLAP_SCAN (plan_node_id=0)"), holding its info strings and counters
// as string properties in text form ("1s54ms", "1.234 GB", "12.345K (12345)"), then its children
// as nested objects, in print order. Three decorations replace the text header's "(Active: ...)":
// "Active", "Active_ns" and "non-child". Counter groups are flattened: a child counter is a
// sibling property that follows its parent, so nesting that the text shows by indentation is
// lost; "__MIN_OF_x"/"__MAX_OF_x" still follow x and attach to it as in the text.
//
// parseJSON keeps key order (it reads tokens, not a map) so that the tree matches the text
// parse of the same profile node for node and entry for entry, apart from the flattening.

// jsonDecorations are the formatter's header properties; the text grammar has no entries for them.
var jsonDecorations = map[string]bool{"Active": true, "Active_ns": true, "non-child": true}

func looksLikeJSON(text string) bool {
	t := strings.TrimLeft(text, " \t\r\n\ufeff")
	return strings.HasPrefix(t, "{")
}

func parseJSON(text string) *Profile {
	p := &Profile{}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	lines := lineIndex{text: text}
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		p.Warnings = append(p.Warnings, Warning{1, "JSON profile: not an object"})
		return p
	}
	root := &Node{Name: "", ID: -1, PlanNodeID: -1}
	if err := readJSONObject(dec, root, p, &lines); err != nil {
		p.Warnings = append(p.Warnings, Warning{lines.at(dec.InputOffset()), "JSON profile: " + err.Error()})
	}
	switch len(root.Children) {
	case 0:
		p.Warnings = append(p.Warnings, Warning{1, "no profile structure found"})
	case 1:
		p.Root = root.Children[0]
	default:
		p.Warnings = append(p.Warnings, Warning{1, fmt.Sprintf("JSON profile: %d top-level nodes", len(root.Children))})
		p.Root = root.Children[0]
		for _, c := range root.Children {
			if c.Kind == NodeQuery {
				p.Root = c
				break
			}
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		p.Warnings = append(p.Warnings, Warning{lines.at(dec.InputOffset()), "JSON profile: data after the top-level object"})
	}
	return p
}

// readJSONObject reads the members of an object whose '{' was consumed into n.
func readJSONObject(dec *json.Decoder, n *Node, p *Profile, lines *lineIndex) error {
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		line := lines.at(dec.InputOffset())
		vt, err := dec.Token()
		if err != nil {
			return err
		}
		switch v := vt.(type) {
		case json.Delim:
			if v != '{' {
				// Arrays are not part of the format; skip them whole and say so.
				p.Warnings = append(p.Warnings, Warning{line, fmt.Sprintf("JSON profile: unexpected array under %q", key)})
				if err := skipJSON(dec); err != nil {
					return err
				}
				continue
			}
			child := newNode(key, 0, line)
			n.Children = append(n.Children, child)
			p.index(child)
			if err := readJSONObject(dec, child, p, lines); err != nil {
				return err
			}
		default:
			if jsonDecorations[key] {
				continue
			}
			raw := jsonScalarText(vt)
			var e *Entry
			if n.Kind == NodePlanner && strings.Contains(key, "-- ") {
				e = parsePlannerEntry(key+" "+raw, 0, line)
			} else {
				e = parseEntry(key+": "+raw, 0, line)
				if raw == "" {
					e = parseEntry(key, 0, line)
				}
			}
			if e.Value.Kind == Unknown {
				p.Warnings = append(p.Warnings, Warning{line, fmt.Sprintf("unknown value form %q for %s", e.Value.Raw, e.Key)})
			}
			if attachMinMax(n.Entries, e) {
				continue
			}
			n.Entries = append(n.Entries, e)
		}
	}
	_, err := dec.Token() // '}'
	return err
}

// attachMinMax hangs a __MIN_OF_x / __MAX_OF_x value on the latest entry x; it reports whether e
// was one.
func attachMinMax(es []*Entry, e *Entry) bool {
	for _, prefix := range [2]string{"__MAX_OF_", "__MIN_OF_"} {
		m, ok := strings.CutPrefix(e.Key, prefix)
		if !ok {
			continue
		}
		for i := len(es) - 1; i >= 0; i-- {
			if es[i].Key == m {
				v := e.Value
				if prefix == "__MAX_OF_" {
					es[i].Max = &v
				} else {
					es[i].Min = &v
				}
				return true
			}
		}
	}
	return false
}

func jsonScalarText(t json.Token) string {
	switch v := t.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	default:
		return ""
	}
}

func skipJSON(dec *json.Decoder) error {
	depth := 1
	for depth > 0 {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
	}
	return nil
}

// lineIndex turns byte offsets into 1-based line numbers, counting newlines incrementally
// because the decoder's offsets only grow.
type lineIndex struct {
	text string
	off  int64
	line int
}

func (l *lineIndex) at(off int64) int {
	if l.line == 0 {
		l.line = 1
	}
	if off > int64(len(l.text)) {
		off = int64(len(l.text))
	}
	if off > l.off {
		l.line += strings.Count(l.text[l.off:off], "\n")
		l.off = off
	}
	return l.line
}
