//go:build !shadowonly

// Writing reports to files or standard output.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/srctl/srctl/analyze"
	"github.com/srctl/srctl/harness"
	"github.com/srctl/srctl/internal/termsafe"
)

func writeCompareOutputs(g *globals, o *compareOptions, rep *harness.Report) error {
	if o.jsonOut != "-" {
		if err := rep.WriteText(g.stdout); err != nil {
			return err
		}
	}
	if o.jsonOut != "" {
		var buf bytes.Buffer
		if err := rep.WriteJSON(&buf); err != nil {
			return err
		}
		if err := writeOutput(g, o.jsonOut, buf.Bytes()); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		return err
	}
	if o.reportMD != "" {
		if err := writeOutput(g, o.reportMD, md.Bytes()); err != nil {
			return fmt.Errorf("--report-md: %w", err)
		}
	}
	if o.reportHTML != "" {
		// After JSON and Markdown: the page gets the servers' text without control characters.
		termsafe.Report(rep)
		var page bytes.Buffer
		if err := rep.WriteHTML(&page); err != nil {
			return err
		}
		if err := writeOutput(g, o.reportHTML, page.Bytes()); err != nil {
			return fmt.Errorf("--report-html: %w", err)
		}
	}
	if summary := os.Getenv("GITHUB_STEP_SUMMARY"); summary != "" {
		f, err := os.OpenFile(summary, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
		}
		_, werr := f.Write(md.Bytes())
		if err := errors.Join(werr, f.Close()); err != nil {
			return fmt.Errorf("GITHUB_STEP_SUMMARY %s: %w", summary, err)
		}
	}
	return nil
}

func writeOutput(g *globals, name string, data []byte) error {
	if name == "-" {
		_, err := g.stdout.Write(data)
		return err
	}
	return os.WriteFile(name, data, 0o644)
}

// addReportFlags declares --format and --report-html, which diff, validate and replay share.
func addReportFlags(f *pflag.FlagSet, format, reportHTML *string) {
	f.StringVar(format, "format", "table", "output: table, json, csv, markdown or html (one self-contained page with plots; redirect it to a file)")
	f.StringVar(reportHTML, "report-html", "", "also write the report as one self-contained HTML page to this file (opens offline; attach it to a CI run or a PR)")
}

// checkOutputFlags checks the --format, --color and --fail-on flags diff and validate share.
func checkOutputFlags(format, color, failOn string) error {
	switch format {
	case "table", "json", "csv", "markdown", "html":
	default:
		return usageErrorf("--format %q: want table, json, csv, markdown or html", format)
	}
	switch color {
	case "auto", "always", "never":
	default:
		return usageErrorf("--color %q: want auto, always or never", color)
	}
	_, err := parseFailOn(failOn)
	return err
}

// renderOptions sizes and colours a report for standard output: the terminal's width and
// colours when it is one (--color auto), colours anyway with --color always.
func renderOptions(g *globals, color string, top int) analyze.RenderOptions {
	ro := analyze.RenderOptions{Top: top, Color: color == "always"}
	if f, ok := g.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			ro.Width = w
		}
		ro.Color = ro.Color || color == "auto"
	}
	return ro
}

// reportRenderers are one report type's output formats.
type reportRenderers[R any] struct {
	json, csv             func(io.Writer, R) error
	markdown, table, html func(io.Writer, R, analyze.RenderOptions) error
}

// writeReport prints rep in --format to standard output, and as HTML to htmlFile when one is
// named (--report-html). The table, Markdown and HTML formats get the logs' text made safe
// first: it is the clients' (SQL, routes, error messages) and must not reach a terminal or a
// PR as escape sequences (HTML escapes markup, not control characters).
func writeReport[R any](g *globals, format, color string, top int, rep R, r reportRenderers[R], htmlFile string) error {
	ro := renderOptions(g, color, top)
	if format == "table" || format == "markdown" || format == "html" || htmlFile != "" {
		termsafe.Report(rep)
	}
	if htmlFile != "" {
		var buf bytes.Buffer
		if err := r.html(&buf, rep, analyze.RenderOptions{}); err != nil {
			return fmt.Errorf("writing the HTML report: %w", err)
		}
		if err := writeOutput(g, htmlFile, buf.Bytes()); err != nil {
			return fmt.Errorf("--report-html: %w", err)
		}
	}
	var err error
	switch format {
	case "json":
		err = r.json(g.stdout, rep)
	case "csv":
		err = r.csv(g.stdout, rep)
	case "markdown":
		err = r.markdown(g.stdout, rep, ro)
	case "html":
		err = r.html(g.stdout, rep, analyze.RenderOptions{})
	default:
		err = r.table(g.stdout, rep, ro)
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// findings are what --fail-on can turn into exit bits.
type findings struct {
	regression, failure, divergence bool
	badLines                        int64
}

// findingsExit is the exit status of a report: with --strict, 1 on bad input; else the
// --fail-on bits of the findings present.
func findingsExit(failOn string, strict bool, f findings) error {
	mask, _ := parseFailOn(failOn)
	code := 0
	if mask&exitRegression != 0 && f.regression {
		code |= exitRegression
	}
	if mask&exitShadowFailure != 0 && f.failure {
		code |= exitShadowFailure
	}
	if mask&exitDivergence != 0 && f.divergence {
		code |= exitDivergence
	}
	if strict && f.badLines > 0 {
		return &exitCodeError{code: exitFailure, msg: fmt.Sprintf("--strict: %d bad input lines or files (see data quality)", f.badLines)}
	}
	if code != 0 {
		return &exitCodeError{code: code}
	}
	return nil
}
