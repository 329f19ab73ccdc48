package sqlclass

import (
	"strings"
)

// readPrivileges are the privileges that change nothing. Any other privilege, and any role
// (whose privileges SHOW GRANTS does not list), counts as a way to write.
var readPrivileges = map[string]bool{"select": true, "usage": true, "show view": true, "show databases": true,
	"process": true, "replication client": true, "binlog monitor": true, "slave monitor": true,
	"show_routine": true, "references": true}

// WritePrivileges reads the lines of SHOW GRANTS (MySQL, MariaDB or StarRocks) and returns what
// in them lets the login change something, e.g. "ALL PRIVILEGES ON *.*" or "role root". An
// empty result means the grants list only reads.
func WritePrivileges(grants []string) []string {
	var out []string
	for _, g := range grants {
		g = strings.TrimSpace(g)
		up := strings.ToUpper(g)
		if !strings.HasPrefix(up, "GRANT ") {
			continue
		}
		body := g[len("GRANT "):]
		on := strings.Index(strings.ToUpper(body), " ON ")
		if on < 0 {
			// GRANT role TO user: the role's privileges are not listed here.
			to := strings.Index(strings.ToUpper(body), " TO ")
			if to < 0 {
				to = len(body)
			}
			out = append(out, "role "+strings.TrimSpace(body[:to]))
			continue
		}
		object := body[on+len(" ON "):]
		if to := strings.Index(strings.ToUpper(object), " TO "); to >= 0 {
			object = object[:to]
		}
		for _, p := range splitPrivileges(body[:on]) {
			if !readPrivileges[strings.ToLower(p)] {
				out = append(out, strings.ToUpper(p)+" ON "+strings.TrimSpace(object))
			}
		}
		if strings.Contains(up, "WITH GRANT OPTION") {
			out = append(out, "GRANT OPTION ON "+strings.TrimSpace(object))
		}
	}
	return out
}

// splitPrivileges splits "SELECT, INSERT (a, b), SHOW VIEW" at the commas outside parentheses
// and drops column lists.
func splitPrivileges(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			switch s[i] {
			case '(':
				depth++
				continue
			case ')':
				depth--
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		p := s[start:i]
		if j := strings.IndexByte(p, '('); j >= 0 {
			p = p[:j]
		}
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			out = append(out, p)
		}
		start = i + 1
	}
	return out
}
