package harness

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// Case is one comparison: a baseline and a candidate SQL text run against the same server.
type Case struct {
	Name string `json:"name"`
	// BaselineSource and CandidateSource say where the texts came from ("a.sql",
	// "git:origin/main:sql/a.sql"), for the report.
	BaselineSource  string         `json:"baseline_source"`
	CandidateSource string         `json:"candidate_source"`
	Params          map[string]any `json:"params,omitempty"`
	Baseline        string         `json:"-"`
	Candidate       string         `json:"-"`
	// Overrides holds the suite's per-case thresholds; nil fields use the command's.
	Overrides Overrides `json:"-"`
}

// Overrides are thresholds a suite case sets for itself.
type Overrides struct {
	Threshold      *float64
	MaxCPUIncrease *float64
	MaxMemIncrease *float64
	FloatTolerance *float64 `yaml:"float_tolerance"`
}

// SourceReader gives the texts of a case's files: the working tree for the candidate, a git
// revision for the baseline when one is set.
type SourceReader struct {
	Dir string // where relative paths and git run; "" = current directory
}

// ReadFile reads a working-tree file.
func (r SourceReader) ReadFile(name string) (string, error) {
	b, err := os.ReadFile(r.path(name))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", name, err)
	}
	return string(b), nil
}

func (r SourceReader) path(name string) string {
	if filepath.IsAbs(name) || r.Dir == "" {
		return name
	}
	return filepath.Join(r.Dir, name)
}

// errNotInRevision marks a file that the git revision does not have (a new file: no baseline).
var errNotInRevision = errors.New("not in that revision")

// GitShow reads name as it is at rev. name is relative to the working directory, as the user
// typed it ("./" makes git resolve it against the current directory, not the repository root).
func (r SourceReader) GitShow(ctx context.Context, rev, name string) (string, error) {
	spec := rev + ":./" + filepath.ToSlash(filepath.Clean(name))
	out, err := r.git(ctx, "show", spec)
	if err != nil {
		if strings.Contains(err.Error(), "exists on disk, but not in") || strings.Contains(err.Error(), "does not exist in") {
			return "", fmt.Errorf("%s: %w %s", name, errNotInRevision, rev)
		}
		return "", err
	}
	return out, nil
}

// IsNotInRevision reports an error of GitShow for a file the revision does not have.
func IsNotInRevision(err error) bool { return errors.Is(err, errNotInRevision) }

// MergeBase is the commit where HEAD's branch left rev: a branch's changes are compared with
// what it started from, not with what rev's branch did since.
func (r SourceReader) MergeBase(ctx context.Context, rev string) (string, error) {
	base, err := r.git(ctx, "merge-base", rev, "HEAD")
	if err != nil {
		return "", fmt.Errorf("--changed-since %s: %w", rev, err)
	}
	return strings.TrimSpace(base), nil
}

// ChangedFiles lists the files, relative to the working directory, that differ between the
// merge base of rev and HEAD and the working tree (committed or not, and files git does not
// track yet), added, modified or renamed, and matching one of include (all files when include
// is empty).
func (r SourceReader) ChangedFiles(ctx context.Context, rev string, include []string) ([]string, error) {
	base, err := r.MergeBase(ctx, rev)
	if err != nil {
		return nil, err
	}
	out, err := r.git(ctx, "diff", "--name-only", "--relative", "--diff-filter=AMR", "-z", base)
	if err != nil {
		return nil, err
	}
	// Files not yet added to git are changes too (they have no baseline: the caller says so).
	untracked, err := r.git(ctx, "ls-files", "--others", "--exclude-standard", "-z")
	if err != nil {
		return nil, err
	}
	out += untracked
	var globs []*regexp.Regexp
	for _, g := range include {
		re, err := globRegexp(g)
		if err != nil {
			return nil, err
		}
		globs = append(globs, re)
	}
	var files []string
	for f := range strings.SplitSeq(out, "\x00") {
		if f == "" {
			continue
		}
		if len(globs) == 0 || slices.ContainsFunc(globs, func(re *regexp.Regexp) bool { return re.MatchString(f) }) {
			files = append(files, f)
		}
	}
	slices.Sort(files)
	return files, nil
}

func (r SourceReader) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = r.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return stdout.String(), nil
}

// globRegexp turns a path glob into a regular expression: "**" crosses directories ("sql/**/*.sql"
// matches sql/a.sql and sql/x/y/a.sql), "*" and "?" do not, "[...]" is a class.
func globRegexp(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case strings.HasPrefix(glob[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			end := strings.IndexByte(glob[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("--include %q: unclosed [", glob)
			}
			b.WriteString(glob[i : i+end+1])
			i += end
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("--include %q: %w", glob, err)
	}
	return re, nil
}

// ParamSets reads a --params file: one parameter set (a mapping) or a list of them, in YAML or
// JSON (JSON is YAML). A set may name itself with the key "name".
func ParamSets(data []byte, source string) ([]map[string]any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	switch t := v.(type) {
	case map[string]any:
		return []map[string]any{t}, nil
	case []any:
		sets := make([]map[string]any, 0, len(t))
		for i, e := range t {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: item %d is a %T, want a mapping of parameter names to values", source, i+1, e)
			}
			sets = append(sets, m)
		}
		return sets, nil
	case nil:
		return nil, fmt.Errorf("%s: empty parameter file", source)
	}
	return nil, fmt.Errorf("%s: want a mapping of parameters or a list of them, got a %T", source, v)
}

// ParseParam reads one --param k=v; numbers and booleans keep their type so templates can
// compare them.
func ParseParam(kv string) (string, any, error) {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return "", nil, fmt.Errorf("--param %q: want name=value", kv)
	}
	var val any = v
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		val = i
	} else if f, err := strconv.ParseFloat(v, 64); err == nil {
		val = f
	} else if b, err := strconv.ParseBool(v); err == nil && (v == "true" || v == "false") {
		val = b
	}
	return strings.TrimSpace(k), val, nil
}

// CaseName names a case after its candidate file: orders.sql and orders.sql.tmpl are "orders".
func CaseName(file string) string {
	base := filepath.Base(file)
	for _, ext := range []string{".tmpl", ".sql"} {
		base = strings.TrimSuffix(base, ext)
	}
	return base
}

// IsTemplate says whether a file is rendered before it runs.
func IsTemplate(name string) bool { return strings.HasSuffix(name, ".tmpl") }

// Render runs a .tmpl text with params. A parameter the template uses but the set lacks is an
// error (missingkey=error), not an empty string in SQL.
func Render(name, text string, params map[string]any) (string, error) {
	t, err := template.New(filepath.Base(name)).Option("missingkey=error").Funcs(template.FuncMap{
		"quote": sqlQuote,
	}).Parse(text)
	if err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, params); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return b.String(), nil
}

// sqlQuote makes a SQL string literal, for templates: {{quote .name}}.
func sqlQuote(v any) string {
	s := fmt.Sprint(v)
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Expand renders c with every parameter set when either of its texts is a template (one case
// per set, named "name[set]"), and returns c unchanged otherwise.
func Expand(c Case, sets []map[string]any) ([]Case, error) {
	if !IsTemplate(c.BaselineSource) && !IsTemplate(c.CandidateSource) {
		return []Case{c}, nil
	}
	if len(sets) == 0 {
		sets = []map[string]any{{}}
	}
	out := make([]Case, 0, len(sets))
	for i, set := range sets {
		cc := c
		cc.Params = set
		var err error
		if IsTemplate(c.BaselineSource) {
			if cc.Baseline, err = Render(c.BaselineSource, c.Baseline, set); err != nil {
				return nil, err
			}
		}
		if IsTemplate(c.CandidateSource) {
			if cc.Candidate, err = Render(c.CandidateSource, c.Candidate, set); err != nil {
				return nil, err
			}
		}
		if len(sets) > 1 {
			label := strconv.Itoa(i + 1)
			if n, ok := set["name"].(string); ok && n != "" {
				label = n
			}
			cc.Name = fmt.Sprintf("%s[%s]", c.Name, label)
		}
		out = append(out, cc)
	}
	return out, nil
}

// MergeParams lays the --param values over each set of --params (or makes one set of them).
func MergeParams(sets []map[string]any, overrides map[string]any) []map[string]any {
	if len(overrides) == 0 {
		return sets
	}
	if len(sets) == 0 {
		return []map[string]any{maps.Clone(overrides)}
	}
	out := make([]map[string]any, len(sets))
	for i, s := range sets {
		m := maps.Clone(s)
		maps.Copy(m, overrides)
		out[i] = m
	}
	return out
}

// Suite is a YAML file of cases:
//
//	cases:
//	  - name: orders-by-customer
//	    baseline: sql/orders_v1.sql
//	    candidate: sql/orders_v2.sql.tmpl
//	    params: {customer: 42}         # or a list of sets
//	    threshold: 10%                 # per-case thresholds override the flags
//	    max_cpu_increase: 20%
//	    max_mem_increase: 20%
//	    float_tolerance: 1e-9
//
// Paths are relative to the suite file. Unknown keys are refused.
type Suite struct {
	Cases []SuiteCase `yaml:"cases"`
}

// SuiteCase is one entry of a suite.
type SuiteCase struct {
	Name           string   `yaml:"name"`
	Baseline       string   `yaml:"baseline"`
	Candidate      string   `yaml:"candidate"`
	Params         any      `yaml:"params"`
	Threshold      Percent  `yaml:"threshold"`
	MaxCPUIncrease Percent  `yaml:"max_cpu_increase"`
	MaxMemIncrease Percent  `yaml:"max_mem_increase"`
	FloatTolerance *float64 `yaml:"float_tolerance"`
}

// Percent is a fraction written as "5%" or "5" (both 0.05); nil when unset.
type Percent struct{ V *float64 }

// UnmarshalYAML reads "5%", "5" or 5.
func (p *Percent) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParsePercent(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	p.V = &v
	return nil
}

// ParsePercent reads "5%" or "5" as 0.05.
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a percentage (want e.g. 5%%)", s)
	}
	return v / 100, nil
}

// LoadSuite reads a suite file into cases (templates expanded).
func LoadSuite(path string) ([]Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading suite: %w", err)
	}
	var raw Suite
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("suite %s: %w", path, err)
	}
	if len(raw.Cases) == 0 {
		return nil, fmt.Errorf("suite %s: no cases (want a top-level 'cases:' list)", path)
	}
	dir := SourceReader{Dir: filepath.Dir(path)}
	seen := map[string]bool{}
	var cases []Case
	for i, sc := range raw.Cases {
		where := fmt.Sprintf("suite %s, case %d", path, i+1)
		if sc.Baseline == "" || sc.Candidate == "" {
			return nil, fmt.Errorf("%s: both baseline and candidate are required", where)
		}
		name := cmp.Or(sc.Name, CaseName(sc.Candidate))
		if seen[name] {
			return nil, fmt.Errorf("%s: name %q is used twice", where, name)
		}
		seen[name] = true
		c := Case{Name: name, BaselineSource: sc.Baseline, CandidateSource: sc.Candidate,
			Overrides: Overrides{Threshold: sc.Threshold.V, MaxCPUIncrease: sc.MaxCPUIncrease.V,
				MaxMemIncrease: sc.MaxMemIncrease.V, FloatTolerance: sc.FloatTolerance}}
		if c.Baseline, err = dir.ReadFile(sc.Baseline); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if c.Candidate, err = dir.ReadFile(sc.Candidate); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		var sets []map[string]any
		if sc.Params != nil {
			// Re-encode and read through ParamSets, so a suite's params and a --params file
			// obey one rule.
			b, _ := json.Marshal(sc.Params)
			if sets, err = ParamSets(b, where+" params"); err != nil {
				return nil, err
			}
		}
		expanded, err := Expand(c, sets)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		cases = append(cases, expanded...)
	}
	return cases, nil
}
