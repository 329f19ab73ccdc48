// Package htmlreport renders srctl's reports as one self-contained HTML file: inline CSS, inline
// SVG plots drawn here, and one small inline script that sorts and filters the endpoint table.
// The file opens offline and asks for nothing over the network: its Content-Security-Policy
// allows no source at all but the page's own style and script, pinned by their hashes, so that
// even text a client put into a log (SQL, routes, error messages) that escaped the template's
// escaping could not load or run anything.
//
// The commands (diff, validate, replay, compare-baseline) build a Page from their reports; this
// package knows nothing of them.
package htmlreport

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Page is one report.
type Page struct {
	Title    string // e.g. "srctl diff"
	Subtitle string // what was compared
	// Status is the report's overall outcome, shown as a badge: "fail", "warn" or "pass".
	Status, StatusText string
	Headline           []Stat
	Warnings           []string
	// Table ranks the endpoints; its rows link to the sections with the same ID.
	Table    *Table
	Sections []Section
	// Closing sections after the endpoints (failures, data quality, method).
	Appendix  []Section
	Generated string // when and by what, in the footer
}

// Stat is one number of the headline.
type Stat struct {
	Label, Value string
	Class        string // verdict class: regression, improvement, same, insufficient, or ""
}

// Table is a table of rows with typed columns: the script sorts a column by each cell's Sort
// value (numbers numerically), and filters rows by their Verdict.
type Table struct {
	ID      string
	Columns []Column
	Rows    []Row
}

// Column is a table heading.
type Column struct {
	Name    string
	Numeric bool
	Title   string // hover help
}

// Row is one table row.
type Row struct {
	Verdict string // filter key and row class
	Link    string // the ID of the row's section, if any
	Cells   []Cell
}

// Cell is one value; Sort is what the script sorts by (Text when empty).
type Cell struct {
	Text  string
	Sort  string
	Class string
	Code  bool // monospace (SQL, routes)
}

// Num makes a numeric cell: the text shown and the value sorted by. NaN sorts last.
func Num(text string, v float64) Cell {
	s := "NaN"
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		s = strconv.FormatFloat(v, 'g', 10, 64)
	}
	return Cell{Text: text, Sort: s}
}

// Section is a part of the page with a heading and blocks.
type Section struct {
	ID      string
	Title   string
	Verdict string // badge next to the title, when set
	Blocks  []Block
}

// Block is one piece of a section; the first set field is drawn.
type Block struct {
	Heading string
	Text    string
	KV      []KV
	Items   []string
	Code    string // preformatted (SQL, EXPLAIN lines)
	Table   *Table
	Plot    *Plot
}

// KV is one labelled value.
type KV struct{ Key, Value string }

// Render writes the page.
func (p *Page) Render(w io.Writer) error {
	var body bytes.Buffer
	if err := pageTemplate.ExecuteTemplate(&body, "body", p); err != nil {
		return fmt.Errorf("rendering the HTML report: %w", err)
	}
	data := struct {
		*Page
		CSP    string
		Style  template.CSS
		Script template.JS
		Body   template.HTML
	}{p, csp(), template.CSS(styleSheet), template.JS(script), template.HTML(body.String())}
	if err := pageTemplate.ExecuteTemplate(w, "page", data); err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	return nil
}

//go:embed report.css
var styleSheet string

//go:embed report.js
var script string

// csp allows nothing but the page's own style sheet and script (by hash) and inline SVG: no
// fetch, no image, no font, no form target, no frame.
func csp() string {
	h := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'none'; style-src " + h(styleSheet) + "; script-src " + h(script) +
		"; img-src 'none'; base-uri 'none'; form-action 'none'"
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"plot": func(p *Plot) template.HTML { return template.HTML(p.SVG()) },
	"anchor": func(id string) string {
		return "#" + id
	},
	"vclass": verdictClass,
}).Parse(pageHTML))

// The style and script go in as they are (their hashes are in the policy); everything else is
// escaped by html/template in its context.
const pageHTML = `{{define "page"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>{{.Style}}</style>
</head>
<body>
{{.Body}}
<script>{{.Script}}</script>
</body>
</html>
{{end}}
{{define "body"}}<header>
<h1>{{.Title}}{{if .StatusText}} <span class="badge {{.Status}}" id="status">{{.StatusText}}</span>{{end}}</h1>
{{if .Subtitle}}<p class="subtitle">{{.Subtitle}}</p>{{end}}
{{if .Headline}}<div class="headline">{{range .Headline}}<div class="stat {{.Class}}"><div class="value">{{.Value}}</div><div class="label">{{.Label}}</div></div>{{end}}</div>{{end}}
{{if .Warnings}}<ul class="warnings">{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}
</header>
<main>
{{with .Table}}<section id="ranking">
<h2>Endpoints</h2>
<div class="controls"><label>Show <select id="verdict-filter" data-table="{{.ID}}"><option value="">every verdict</option></select></label> <span id="shown"></span></div>
{{template "table" .}}
<p class="hint">Click a heading to sort; click an endpoint for its details.</p>
</section>{{end}}
{{range .Sections}}{{template "section" .}}{{end}}
{{range .Appendix}}{{template "section" .}}{{end}}
</main>
<footer>{{.Generated}}</footer>
{{end}}
{{define "section"}}<section id="{{.ID}}" class="detail">
<h2>{{.Title}}{{if .Verdict}} <span class="badge {{.Verdict | vclass}}">{{.Verdict}}</span>{{end}}</h2>
{{range .Blocks}}{{if .Heading}}<h3>{{.Heading}}</h3>{{end}}{{if .Text}}<p>{{.Text}}</p>{{end}}{{if .KV}}<dl>{{range .KV}}<dt>{{.Key}}</dt><dd>{{.Value}}</dd>{{end}}</dl>{{end}}{{if .Items}}<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul>{{end}}{{if .Code}}<pre><code>{{.Code}}</code></pre>{{end}}{{with .Table}}{{template "table" .}}{{end}}{{with .Plot}}<figure>{{plot .}}</figure>{{end}}
{{end}}</section>
{{end}}
{{define "table"}}<div class="scroll"><table id="{{.ID}}" class="sortable">
<thead><tr>{{range $i, $c := .Columns}}<th data-col="{{$i}}"{{if $c.Numeric}} data-numeric="1" class="num"{{end}}{{if $c.Title}} title="{{$c.Title}}"{{end}}>{{$c.Name}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr class="v-{{.Verdict | vclass}}" data-verdict="{{.Verdict}}">{{$link := .Link}}{{range $i, $c := .Cells}}<td{{if $c.Sort}} data-sort="{{$c.Sort}}"{{end}} class="{{$c.Class}}">{{if and (eq $i 0) $link}}<a href="{{anchor $link}}">{{if $c.Code}}<code>{{$c.Text}}</code>{{else}}{{$c.Text}}{{end}}</a>{{else if $c.Code}}<code>{{$c.Text}}</code>{{else}}{{$c.Text}}{{end}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>{{end}}`

// SectionID makes the element ID of the i-th section: endpoint names come from clients, so
// they never become IDs (an ID must be unique and should be inert).
func SectionID(prefix string, i int) string { return prefix + "-" + strconv.Itoa(i) }

// verdictClass maps a verdict to a CSS class (and the filter's row class).
func verdictClass(v string) string {
	switch v {
	case "regression", "fail", "slower", "failed", "differs":
		return "regression"
	case "improvement", "pass", "faster", "passed":
		return "improvement"
	case "~", "same", "unchanged":
		return "same"
	case "":
		return ""
	}
	if strings.HasPrefix(v, "insufficient") || strings.HasPrefix(v, "cannot") {
		return "insufficient"
	}
	return "other"
}

// Count says "1 regression" or "2 regressions": the status line reads as a sentence.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Footer is a page's footer: which command made it, when, and that it needs no network.
func Footer(command string) string {
	return "srctl " + command + ", " + time.Now().UTC().Format(time.RFC3339) + ". Self-contained: no network access, open it in any browser."
}

// ClassIf is class when cond holds, else "" (a headline card's or cell's verdict class).
func ClassIf(cond bool, class string) string {
	if cond {
		return class
	}
	return ""
}
