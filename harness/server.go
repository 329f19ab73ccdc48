package harness

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/srctl/srctl/analyze/sqlclass"
)

// ServerKind is the kind of server compare-baseline talks to: the statements that bust caches,
// fetch plans and profiles differ.
type ServerKind string

const (
	StarRocks ServerKind = "starrocks"
	MariaDB   ServerKind = "mariadb"
	MySQL     ServerKind = "mysql"
)

// Server is what Detect found.
type Server struct {
	Kind    ServerKind `json:"kind"`
	Version string     `json:"version"`
}

// Detect identifies the server behind conn: current_version() exists on StarRocks only;
// MariaDB says so in VERSION().
func Detect(ctx context.Context, conn *sql.Conn) (Server, error) {
	var v string
	if err := conn.QueryRowContext(ctx, "SELECT current_version()").Scan(&v); err == nil {
		return Server{Kind: StarRocks, Version: v}, nil
	}
	if err := conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return Server{}, fmt.Errorf("detecting the server: %w", err)
	}
	if strings.Contains(strings.ToLower(v), "mariadb") {
		return Server{Kind: MariaDB, Version: v}, nil
	}
	return Server{Kind: MySQL, Version: v}, nil
}

// ColdSettings returns the session statements that make each run read cold, and a sentence for
// the report on what they cannot do. StarRocks' caches are per-session switches (see
// ../shared/starrocks/README.md section 4); MariaDB's query cache can be bypassed, but no
// session setting empties InnoDB's buffer pool.
func ColdSettings(ctx context.Context, conn *sql.Conn, s Server) (stmts []string, caveat string) {
	switch s.Kind {
	case StarRocks:
		return []string{"SET enable_query_cache = false", "SET use_page_cache = false",
			"SET enable_scan_datacache = false", "SET enable_populate_datacache = false"}, ""
	case MariaDB, MySQL:
		var have string
		// The query cache is gone from MySQL 8 and off by default in MariaDB; bypass it if present.
		if err := conn.QueryRowContext(ctx, "SELECT @@have_query_cache").Scan(&have); err == nil && strings.EqualFold(have, "YES") {
			stmts = append(stmts, "SET SESSION query_cache_type = OFF")
		}
		return stmts, "the InnoDB buffer pool cannot be emptied from a session: --cold bypasses the query cache and defeats text-keyed caches only"
	}
	return nil, ""
}

// WritePrivileges reads the login's grants (SHOW GRANTS) and returns what in them allows more
// than reading, e.g. "ALL PRIVILEGES ON *.*"; see sqlclass.WritePrivileges.
func WritePrivileges(ctx context.Context, conn *sql.Conn) ([]string, error) {
	rows, err := conn.QueryContext(ctx, "SHOW GRANTS")
	if err != nil {
		return nil, fmt.Errorf("reading the login's grants: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("reading the login's grants: %w", err)
	}
	var lines []string
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("reading the login's grants: %w", err)
		}
		for _, v := range vals {
			// MySQL and MariaDB: one column; StarRocks: UserIdentity, Catalog, Grants.
			if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(v.String)), "GRANT ") {
				lines = append(lines, v.String)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the login's grants: %w", err)
	}
	return sqlclass.WritePrivileges(lines), nil
}
