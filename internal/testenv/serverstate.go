package testenv

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// ServerState renders what a write could change on a MySQL-protocol server, for tests that
// prove a guard held: the tables of database (with CHECKSUM TABLE), its routines and
// sequences' positions, the global variables, the accounts root and u and u's grants, and the files
// matching /tmp/srctl-guard-*. Two calls return the same text when nothing changed.
func ServerState(t testing.TB, db *sql.DB, database string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT table_name, table_type, COALESCE(auto_increment, 0) FROM information_schema.tables WHERE table_schema = '" + database + "' ORDER BY table_name",
		"SELECT routine_name, routine_type FROM information_schema.routines WHERE routine_schema = '" + database + "' ORDER BY routine_name",
		"SELECT user, host, plugin, authentication_string FROM mysql.user WHERE user IN ('u', 'root') ORDER BY user, host",
		"SHOW GRANTS FOR 'u'@'%'",
		"SELECT variable_name, variable_value FROM information_schema.global_variables WHERE variable_name NOT LIKE 'GTID%' ORDER BY variable_name",
	} {
		b.WriteString(queryText(t, db, q))
	}
	rows, err := db.Query("SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name", database)
	if err != nil {
		t.Fatalf("listing tables: %v", err)
	}
	var tables, sequences []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		if typ == "SEQUENCE" {
			sequences = append(sequences, name)
		} else {
			tables = append(tables, name)
		}
	}
	rows.Close()
	for _, tb := range tables {
		b.WriteString(queryText(t, db, fmt.Sprintf("CHECKSUM TABLE `%s`.`%s`", database, tb)))
	}
	for _, s := range sequences {
		b.WriteString(queryText(t, db, fmt.Sprintf("SELECT next_not_cached_value FROM `%s`.`%s`", database, s)))
	}
	files, _ := filepath.Glob("/tmp/srctl-guard-*")
	sort.Strings(files)
	fmt.Fprintf(&b, "files: %q\n", files)
	return b.String()
}

func queryText(t testing.TB, db *sql.DB, q string) string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var b strings.Builder
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for _, v := range vals {
			b.WriteString(v.String)
			b.WriteByte('\t')
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return b.String()
}

// GuardFixture creates database name on db with what the hostile corpus
// (analyze/sqlclass/sqlclasstest) aims at: tables t and u, a sequence s, a procedure p that
// writes, and an account 'u'@'%'.
func GuardFixture(t testing.TB, db *sql.DB, name string) {
	t.Helper()
	for _, s := range []string{
		"DROP DATABASE IF EXISTS " + name,
		"CREATE DATABASE " + name,
		"CREATE TABLE " + name + ".t (id INT PRIMARY KEY, a INT)",
		"INSERT INTO " + name + ".t VALUES (1, 1), (2, 2), (3, 3)",
		"CREATE TABLE " + name + ".u (id INT PRIMARY KEY)",
		"CREATE SEQUENCE " + name + ".s",
		"CREATE PROCEDURE " + name + ".p() DELETE FROM " + name + ".t",
		"CREATE USER IF NOT EXISTS 'u'@'%' IDENTIFIED BY 'guard-test'",
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// StateChanges lists the lines of two ServerState texts that differ ("-" before, "+" after).
func StateChanges(before, after string) string {
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	var out strings.Builder
	for _, l := range b {
		if !slices.Contains(a, l) {
			out.WriteString("- " + l + "\n")
		}
	}
	for _, l := range a {
		if !slices.Contains(b, l) {
			out.WriteString("+ " + l + "\n")
		}
	}
	return out.String()
}
