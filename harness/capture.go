package harness

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/analyze/plan"
	"github.com/srctl/srctl/analyze/profile"
	"github.com/srctl/srctl/internal/termsafe"
)

// CaptureOptions shape a capture bundle.
type CaptureOptions struct {
	Endpoint     string
	NoRows       bool // leave result rows out of the snapshot (sensitive data)
	SnapshotRows int  // rows kept in the result snapshot; default 20
}

// Capture is the context of one endpoint: what the person (or agent) who fixes it reads. It is
// written as context.json next to summary.md and the raw files.
type Capture struct {
	Endpoint string          `json:"endpoint"`
	Queries  []ReplayQuery   `json:"queries"` // the parameter sets seen, by logged latency
	Typical  int             `json:"typical_query"`
	Slow     int             `json:"slow_query"`
	Servers  []ServerCapture `json:"servers"`
	// Between the servers (two DSNs only).
	Variables  []VariableDiff        `json:"variables_differing"`
	Tables     []TableDiff           `json:"tables"`
	Plans      []PlanCompare         `json:"plans"`
	Profiles   []profile.MetricDelta `json:"profile_metrics,omitempty"` // typical query, primary → shadow
	SameResult *bool                 `json:"same_result,omitempty"`
}

// ServerCapture is what one server said.
type ServerCapture struct {
	Role      string            `json:"role"` // primary or shadow
	Server    Server            `json:"server"`
	Variables map[string]string `json:"session_variables"`
	Tables    []TableCapture    `json:"tables"`
	Explains  []Explain         `json:"explains"`
	Snapshot  *Snapshot         `json:"result_snapshot,omitempty"`
	Profiles  []ProfileCapture  `json:"profiles,omitempty"`
	Errors    []string          `json:"errors,omitempty"` // what could not be read, and why
}

// TableCapture is a table's definition and size on a server.
type TableCapture struct {
	Table      string `json:"table"`
	DDL        string `json:"ddl"`
	Rows       int64  `json:"rows"` // the server's estimate (information_schema)
	DataBytes  int64  `json:"data_bytes"`
	IndexBytes int64  `json:"index_bytes"`
}

// Explain is one EXPLAIN of one query.
type Explain struct {
	Query     string `json:"query"` // typical or slow
	Statement string `json:"statement"`
	Text      string `json:"text"`
}

// Snapshot summarises the typical query's result.
type Snapshot struct {
	Columns []Column    `json:"columns"`
	Rows    int64       `json:"rows"`
	Hash    string      `json:"hash"`
	First   [][]*string `json:"first_rows,omitempty"`
	Error   string      `json:"error,omitempty"`
}

// ProfileCapture is a StarRocks profile of the typical or the slow query.
type ProfileCapture struct {
	Query   string           `json:"query"`
	QueryID string           `json:"query_id"`
	Text    string           `json:"-"` // written as a file
	Head    profile.Headline `json:"headline"`
}

// PlanCompare is the structural comparison of one query's plans on the two servers.
type PlanCompare struct {
	Query string    `json:"query"`
	Diff  plan.Diff `json:"diff"`
}

// Capture reads everything the bundle holds from each server. queries are the endpoint's
// selected executions.
func (r *Replayer) Capture(ctx context.Context, queries []ReplayQuery, opts CaptureOptions) (*Capture, error) {
	if len(queries) == 0 {
		return nil, fmt.Errorf("no query of endpoint %q to capture", opts.Endpoint)
	}
	if opts.SnapshotRows <= 0 {
		opts.SnapshotRows = 20
	}
	qs := slices.Clone(queries)
	slices.SortStableFunc(qs, func(a, b ReplayQuery) int { return cmp.Compare(a.LoggedMS, b.LoggedMS) })
	c := &Capture{Endpoint: opts.Endpoint, Queries: qs, Typical: len(qs) / 2, Slow: len(qs) - 1,
		Variables: []VariableDiff{}, Tables: []TableDiff{}, Plans: []PlanCompare{}}
	picks := []struct {
		name string
		sql  string
	}{{"typical", qs[c.Typical].SQL}, {"slow", qs[c.Slow].SQL}}
	if c.Slow == c.Typical {
		picks = picks[:1]
	}
	tables := TablesOf(qs)
	for _, role := range []string{"primary", "shadow"} {
		cmpr := r.primary
		if role == "shadow" {
			cmpr = r.shadow
		}
		if cmpr == nil {
			continue
		}
		sc, err := r.captureServer(ctx, cmpr, role, tables, picks, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", role, err)
		}
		c.Servers = append(c.Servers, sc)
	}
	if len(c.Servers) == 2 {
		p, s := c.Servers[0], c.Servers[1]
		c.Variables = diffVariables(p.Variables, s.Variables)
		for i := range p.Tables {
			c.Tables = append(c.Tables, tableDiff(p.Tables[i].Table, p.Tables[i].DDL, s.Tables[i].DDL, ""))
		}
		for i := range p.Explains {
			if p.Explains[i].Text == "" || s.Explains[i].Text == "" || strings.Contains(p.Explains[i].Statement, "VERBOSE") {
				continue
			}
			pa, pb := plan.Parse(p.Explains[i].Text), plan.Parse(s.Explains[i].Text)
			if pa.Root != nil && pb.Root != nil {
				c.Plans = append(c.Plans, PlanCompare{Query: p.Explains[i].Query, Diff: plan.CompareNamed(pa, pb, "primary", "shadow", 3)})
			}
		}
		if p.Snapshot != nil && s.Snapshot != nil && p.Snapshot.Error == "" && s.Snapshot.Error == "" {
			same := p.Snapshot.Hash == s.Snapshot.Hash
			c.SameResult = &same
		}
		if len(p.Profiles) > 0 && len(s.Profiles) > 0 {
			c.Profiles = profile.CompareHeadlines(p.Profiles[0].Head, s.Profiles[0].Head)
		}
	}
	return c, nil
}

func (r *Replayer) captureServer(ctx context.Context, c *Comparer, role string, tables []string, picks []struct{ name, sql string }, opts CaptureOptions) (ServerCapture, error) {
	sc := ServerCapture{Role: role, Server: c.server, Tables: []TableCapture{}, Explains: []Explain{}}
	s, err := c.open(ctx)
	if err != nil {
		return sc, err
	}
	defer s.Close()
	if sc.Variables, err = r.variables(ctx, s); err != nil {
		return sc, err
	}
	for _, t := range tables {
		tc := TableCapture{Table: t}
		if tc.DDL, err = r.showCreate(ctx, c, s, t); err != nil {
			sc.Errors = append(sc.Errors, fmt.Sprintf("SHOW CREATE TABLE %s: %v", t, err))
		}
		if err := r.tableSize(ctx, s, t, &tc); err != nil {
			sc.Errors = append(sc.Errors, fmt.Sprintf("size of %s: %v", t, err))
		}
		sc.Tables = append(sc.Tables, tc)
	}
	forms := []string{c.explainPrefix()}
	if c.server.Kind == StarRocks {
		forms = append(forms, "EXPLAIN VERBOSE ")
	}
	for _, p := range picks {
		for _, form := range forms {
			if err := r.pace.wait(ctx); err != nil {
				return sc, err
			}
			text, err := explainWith(ctx, c, s, form, p.sql)
			if err != nil {
				sc.Errors = append(sc.Errors, fmt.Sprintf("%s of the %s query: %v", strings.TrimSpace(form), p.name, err))
			}
			sc.Explains = append(sc.Explains, Explain{Query: p.name, Statement: strings.TrimSpace(form), Text: text})
		}
	}
	if err := r.pace.wait(ctx); err != nil {
		return sc, err
	}
	sc.Snapshot = r.snapshot(ctx, c, s, picks[0].sql, opts)
	if c.server.Kind == StarRocks {
		for _, p := range picks {
			for range 5 {
				if err := r.pace.wait(ctx); err != nil {
					return sc, err
				}
			}
			id, text, pr, err := c.profileRunText(ctx, p.sql)
			if err != nil {
				sc.Errors = append(sc.Errors, fmt.Sprintf("profile of the %s query: %v", p.name, err))
				continue
			}
			sc.Profiles = append(sc.Profiles, ProfileCapture{Query: p.name, QueryID: id, Text: text, Head: pr.Headlines()})
		}
	}
	return sc, nil
}

// explainWith is Comparer.explain with another EXPLAIN form.
func explainWith(ctx context.Context, c *Comparer, s *Session, form, text string) (string, error) {
	stmts := strings.Join(splitLast(text, form), ";\n")
	var lines []string
	_, _, err := s.Run(ctx, stmts, c.cfg.Timeout, func(row []sql.RawBytes) error {
		lines = append(lines, string(row[0]))
		return nil
	}, nil)
	return strings.Join(lines, "\n"), err
}

// splitLast returns text's statements with the last one prefixed by form on its own line.
func splitLast(text, form string) []string {
	stmts := fingerprint.Statements(text)
	if len(stmts) == 0 {
		return nil
	}
	stmts[len(stmts)-1] = form + "\n" + stmts[len(stmts)-1]
	return stmts
}

func (r *Replayer) tableSize(ctx context.Context, s *Session, table string, tc *TableCapture) error {
	if err := r.pace.wait(ctx); err != nil {
		return err
	}
	db, name := "", table
	if i := strings.LastIndex(table, "."); i >= 0 {
		db, name = table[:i], table[i+1:]
	}
	q := "SELECT COALESCE(TABLE_ROWS, 0), COALESCE(DATA_LENGTH, 0), COALESCE(INDEX_LENGTH, 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
	if db == "" {
		q += "DATABASE()"
	} else {
		q += sqlQuote(db)
	}
	q += " AND TABLE_NAME = " + sqlQuote(name)
	_, _, err := s.Run(ctx, q, r.cfg.Timeout, func(row []sql.RawBytes) error {
		fmt.Sscan(string(row[0]), &tc.Rows)
		fmt.Sscan(string(row[1]), &tc.DataBytes)
		fmt.Sscan(string(row[2]), &tc.IndexBytes)
		return nil
	}, nil)
	return err
}

// snapshot runs the query once and keeps its result's digest and first rows.
func (r *Replayer) snapshot(ctx context.Context, c *Comparer, s *Session, text string, opts CaptureOptions) *Snapshot {
	snap := &Snapshot{}
	var rh *rowHasher
	var d Digest
	_, _, err := s.Run(ctx, c.tagged(text, "snapshot"), c.cfg.Timeout, func(row []sql.RawBytes) error {
		d.Add(rh.Hash(row))
		if !opts.NoRows && len(snap.First) < opts.SnapshotRows {
			snap.First = append(snap.First, copyRow(row))
		}
		return nil
	}, func(types []*sql.ColumnType) {
		snap.Columns = columnsOf(types)
		rh = newRowHasher(r.primary.seed, snap.Columns, c.cfg.FloatTolerance)
	})
	if err != nil {
		snap.Error = err.Error()
	}
	snap.Rows = d.Rows
	snap.Hash = fmt.Sprintf("%016x%016x", d.setA, d.setB)
	return snap
}

// fileName makes a table or query name safe as one path element.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// WriteBundle writes the capture under dir: summary.md (read it first), context.json, queries.sql,
// and per server its tables, EXPLAINs, variables, result snapshot and profiles.
func (c *Capture) WriteBundle(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(rel, content string) error {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(content), 0o644)
	}
	var qs strings.Builder
	for i, q := range c.Queries {
		role := ""
		switch i {
		case c.Slow:
			role = " (the slow one)"
		case c.Typical:
			role = " (the typical one)"
		}
		fmt.Fprintf(&qs, "-- %d: logged %.3f ms, %d bytes%s\n%s;\n\n", i+1, q.LoggedMS, q.LoggedBytes, role, strings.TrimRight(strings.TrimSpace(q.SQL), ";"))
	}
	if err := write("queries.sql", qs.String()); err != nil {
		return err
	}
	for _, s := range c.Servers {
		for _, t := range s.Tables {
			if err := write(filepath.Join(s.Role, "tables", unsafeName.ReplaceAllString(t.Table, "_")+".sql"), t.DDL+";\n"); err != nil {
				return err
			}
		}
		for _, e := range s.Explains {
			kind := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(e.Statement, "EXPLAIN "), "=", "-"))
			if err := write(filepath.Join(s.Role, fmt.Sprintf("explain-%s-%s.txt", e.Query, unsafeName.ReplaceAllString(kind, "_"))), e.Text+"\n"); err != nil {
				return err
			}
		}
		var vs strings.Builder
		for _, n := range slices.Sorted(mapKeysOf(s.Variables)) {
			fmt.Fprintf(&vs, "%s = %s\n", n, s.Variables[n])
		}
		if err := write(filepath.Join(s.Role, "session-variables.txt"), vs.String()); err != nil {
			return err
		}
		for _, p := range s.Profiles {
			if err := write(filepath.Join(s.Role, "profile-"+p.Query+".txt"), p.Text+"\n"); err != nil {
				return err
			}
		}
	}
	js, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := write("context.json", string(js)+"\n"); err != nil {
		return err
	}
	return write("summary.md", c.Summary())
}

func mapKeysOf(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Summary is summary.md: what differs between the servers first, then what the bundle holds.
func (c *Capture) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Context of %s\n\n", termsafe.Markdown(c.Endpoint))
	for _, s := range c.Servers {
		fmt.Fprintf(&b, "- %s: %s %s\n", s.Role, s.Server.Kind, termsafe.Markdown(s.Server.Version))
	}
	fmt.Fprintf(&b, "- %d distinct SQL texts seen in traffic (queries.sql, by logged latency: %.3f ms to %.3f ms)\n\n",
		len(c.Queries), c.Queries[0].LoggedMS, c.Queries[len(c.Queries)-1].LoggedMS)
	if len(c.Servers) == 2 {
		b.WriteString("## What differs between the servers\n\n")
		n := 0
		for _, t := range c.Tables {
			if t.Same {
				continue
			}
			n++
			fmt.Fprintf(&b, "- table %s: only on the primary: %s; only on the shadow: %s\n", codeList([]string{t.Table}), codeList(t.OnlyPrimary), codeList(t.OnlyShadow))
		}
		for _, v := range c.Variables {
			n++
			fmt.Fprintf(&b, "- variable %s: primary %s, shadow %s\n", codeList([]string{v.Name}), codeList([]string{v.Primary}), codeList([]string{v.Shadow}))
		}
		for _, p := range c.Plans {
			if p.Diff.Same {
				continue
			}
			n++
			var cs []string
			for _, ch := range p.Diff.Changes {
				cs = append(cs, termsafe.Markdown(ch.Text))
			}
			fmt.Fprintf(&b, "- plan of the %s query: %s\n", p.Query, strings.Join(cs, "; "))
		}
		for _, m := range c.Profiles {
			if m.Ratio >= 1.25 || m.Ratio <= 0.8 {
				n++
				fmt.Fprintf(&b, "- profile of the typical query: %s x%.2g (%s → %s)\n", m.Name, m.Ratio, profile.FormatMetric(m.Unit, m.A), profile.FormatMetric(m.Unit, m.B))
			}
		}
		if c.SameResult != nil && !*c.SameResult {
			n++
			b.WriteString("- the typical query's result differs (see */result-snapshot in context.json)\n")
		}
		if n == 0 {
			b.WriteString("- nothing found: the same table definitions, session variables, plans and result\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("## Per server\n\n")
	for _, s := range c.Servers {
		fmt.Fprintf(&b, "### %s\n\n", s.Role)
		for _, t := range s.Tables {
			fmt.Fprintf(&b, "- table %s: about %d rows, %d bytes of data, %d of indexes (%s/tables/)\n", codeList([]string{t.Table}), t.Rows, t.DataBytes, t.IndexBytes, s.Role)
		}
		if sn := s.Snapshot; sn != nil {
			if sn.Error != "" {
				fmt.Fprintf(&b, "- typical query: error %s\n", termsafe.Markdown(sn.Error))
			} else {
				fmt.Fprintf(&b, "- typical query: %d rows, result hash %s", sn.Rows, sn.Hash)
				if len(sn.First) > 0 {
					fmt.Fprintf(&b, ", first %d rows in context.json", len(sn.First))
				}
				b.WriteString("\n")
			}
		}
		if len(s.Profiles) == 0 && s.Server.Kind != StarRocks {
			b.WriteString("- profiles: StarRocks only\n")
		}
		for _, e := range s.Errors {
			fmt.Fprintf(&b, "- not captured: %s\n", termsafe.Markdown(e))
		}
		b.WriteString("\n")
	}
	b.WriteString("Files: queries.sql; context.json (all of this, for tools); per server: tables/*.sql, explain-*.txt, session-variables.txt, profile-*.txt (StarRocks).\n")
	return b.String()
}

func codeList(ls []string) string {
	if len(ls) == 0 {
		return "(none)"
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = "`" + strings.ReplaceAll(termsafe.String(l), "`", "'") + "`" // DDL and values are the servers'; a comment in them is anyone's
	}
	return strings.Join(out, ", ")
}
