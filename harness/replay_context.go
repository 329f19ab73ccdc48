package harness

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/srctl/srctl/analyze/fingerprint"
)

// ServerContext is what differs between the two servers beyond the queries: versions, the
// variables a session starts with (a changed default between versions is a classic cause of a
// regression after an upgrade), and the definitions of the tables the queries read.
type ServerContext struct {
	Primary   Server         `json:"primary"`
	Shadow    Server         `json:"shadow"`
	Variables []VariableDiff `json:"variables"`
	Tables    []TableDiff    `json:"tables"`
}

// VariableDiff is a session variable whose value differs.
type VariableDiff struct {
	Name    string `json:"name"`
	Primary string `json:"primary"` // "(absent)" when the server has no such variable
	Shadow  string `json:"shadow"`
}

// TableDiff compares one table's definition (SHOW CREATE TABLE).
type TableDiff struct {
	Table   string `json:"table"`
	Same    bool   `json:"same"`
	Primary string `json:"primary_ddl"`
	Shadow  string `json:"shadow_ddl"`
	// OnlyPrimary and OnlyShadow are the definition lines found on one server only (an index,
	// a column, partitions or buckets).
	OnlyPrimary []string `json:"only_primary"`
	OnlyShadow  []string `json:"only_shadow"`
	Error       string   `json:"error,omitempty"`
}

// hostVariables differ between any two servers and say nothing about how a query runs: names,
// ids, ports, files and directories.
var hostVariables = regexp.MustCompile(`^(hostname|server_id|server_uuid|port|socket|pid_file|datadir|basedir|tmpdir|general_log_file|slow_query_log_file|log_error|log_bin_basename|log_bin_index|relay_log.*|report_.*|gtid_.*|wsrep_.*|timestamp|rand_seed.*|pseudo_thread_id|last_insert_id|insert_id|identity|warning_count|error_count|version.*|innodb_buffer_pool_filename|innodb_data_home_dir|innodb_log_group_home_dir|system_time_zone|lc_messages_dir|plugin_dir|character_sets_dir|secure_file_priv|ssl_.*|server_uid|.*_path|.*_dir|frontend_address)$`)

// Context reads both servers' session variables (after the replay's session settings) and the
// definitions of the tables the queries name.
func (r *Replayer) Context(ctx context.Context, queries []ReplayQuery) (ServerContext, error) {
	sc := ServerContext{Primary: r.primary.server, Shadow: r.shadow.server, Variables: []VariableDiff{}, Tables: []TableDiff{}}
	ps, err := r.primary.open(ctx)
	if err != nil {
		return sc, fmt.Errorf("primary: %w", err)
	}
	defer ps.Close()
	ss, err := r.shadow.open(ctx)
	if err != nil {
		return sc, fmt.Errorf("shadow: %w", err)
	}
	defer ss.Close()
	pv, err := r.variables(ctx, ps)
	if err != nil {
		return sc, fmt.Errorf("primary: %w", err)
	}
	sv, err := r.variables(ctx, ss)
	if err != nil {
		return sc, fmt.Errorf("shadow: %w", err)
	}
	sc.Variables = diffVariables(pv, sv)
	for _, t := range TablesOf(queries) {
		pd, e1 := r.showCreate(ctx, r.primary, ps, t)
		sd, e2 := r.showCreate(ctx, r.shadow, ss, t)
		sc.Tables = append(sc.Tables, tableDiff(t, pd, sd, cmpErr(e1, e2)))
	}
	return sc, nil
}

// diffVariables lists the variables whose values differ, host-specific ones left out.
func diffVariables(pv, sv map[string]string) []VariableDiff {
	out := []VariableDiff{}
	names := map[string]bool{}
	for n := range pv {
		names[n] = true
	}
	for n := range sv {
		names[n] = true
	}
	for _, n := range slices.Sorted(mapKeys(names)) {
		a, okA := pv[n]
		b, okB := sv[n]
		if a == b || hostVariables.MatchString(n) {
			continue
		}
		if !okA {
			a = "(absent)"
		}
		if !okB {
			b = "(absent)"
		}
		out = append(out, VariableDiff{Name: n, Primary: a, Shadow: b})
	}
	return out
}

// tableDiff compares two definitions of a table line by line.
func tableDiff(table, primary, shadow, errText string) TableDiff {
	td := TableDiff{Table: table, Primary: primary, Shadow: shadow, Error: errText, OnlyPrimary: []string{}, OnlyShadow: []string{}}
	pl, sl := ddlLines(primary), ddlLines(shadow)
	for _, l := range pl {
		if !slices.Contains(sl, l) {
			td.OnlyPrimary = append(td.OnlyPrimary, l)
		}
	}
	for _, l := range sl {
		if !slices.Contains(pl, l) {
			td.OnlyShadow = append(td.OnlyShadow, l)
		}
	}
	td.Same = td.Error == "" && len(td.OnlyPrimary) == 0 && len(td.OnlyShadow) == 0
	return td
}

func cmpErr(a, b error) string {
	var parts []string
	if a != nil {
		parts = append(parts, "primary: "+a.Error())
	}
	if b != nil {
		parts = append(parts, "shadow: "+b.Error())
	}
	return strings.Join(parts, "; ")
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (r *Replayer) variables(ctx context.Context, s *Session) (map[string]string, error) {
	if err := r.pace.wait(ctx); err != nil {
		return nil, err
	}
	vars := map[string]string{}
	_, _, err := s.Run(ctx, "SHOW SESSION VARIABLES", r.cfg.Timeout, func(row []sql.RawBytes) error {
		if len(row) >= 2 {
			name := strings.ToLower(string(row[0]))
			vars[name] = string(row[1])
			if secretVariable.MatchString(name) && len(row[1]) > 0 {
				vars[name] = "(redacted)" // e.g. wsrep_sst_auth holds user:password
			}
		}
		return nil
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the session variables: %w", err)
	}
	return vars, nil
}

// secretVariable names variables whose values may be credentials.
var secretVariable = regexp.MustCompile(`pass|auth|secret|credential|token`)

var autoIncrement = regexp.MustCompile(` AUTO_INCREMENT=\d+`)

func (r *Replayer) showCreate(ctx context.Context, c *Comparer, s *Session, table string) (string, error) {
	if err := r.pace.wait(ctx); err != nil {
		return "", err
	}
	var ddl string
	_, _, err := s.Run(ctx, "SHOW CREATE TABLE "+quoteName(table), r.cfg.Timeout, func(row []sql.RawBytes) error {
		if len(row) >= 2 {
			ddl = string(row[1])
		}
		return nil
	}, nil)
	// The next id to hand out is data, not definition.
	return autoIncrement.ReplaceAllString(ddl, ""), err
}

// quoteName quotes db.table for MySQL-family SQL.
func quoteName(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = "`" + strings.ReplaceAll(p, "`", "``") + "`"
	}
	return strings.Join(parts, ".")
}

// ddlLines are a definition's lines, trimmed, without trailing commas: a removed last column
// must not show the previous one as changed.
func ddlLines(ddl string) []string {
	var out []string
	for _, l := range strings.Split(ddl, "\n") {
		if l = strings.TrimSuffix(strings.TrimSpace(l), ","); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// TablesOf names the tables the queries read: the names after FROM and JOIN (db.table kept),
// sorted, each once. Subqueries and table functions are skipped; the list is for context, not
// for a guard.
func TablesOf(queries []ReplayQuery) []string {
	seen := map[string]bool{}
	for _, q := range queries {
		for _, st := range fingerprint.Statements(q.SQL) {
			toks := fingerprint.Tokens(st)
			for i := 0; i+1 < len(toks); i++ {
				if !toks[i].Word || (toks[i].Text != "from" && toks[i].Text != "join") {
					continue
				}
				name := unquote(toks[i+1].Text)
				if !toks[i+1].Word && !strings.HasPrefix(toks[i+1].Text, "`") || name == "" {
					continue
				}
				for i+3 < len(toks) && toks[i+2].Text == "." {
					name += "." + unquote(toks[i+3].Text)
					i += 2
				}
				seen[name] = true
			}
		}
	}
	return slices.Sorted(mapKeys(seen))
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}
