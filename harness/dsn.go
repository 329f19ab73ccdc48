package harness

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/srctl/srctl/internal/redact"
)

// ParseDSN accepts go-sql-driver/mysql's format (user:pass@tcp(host:port)/db?params) or a URL
// (mysql://user:pass@host:port/db?params) and returns the driver's config.
func ParseDSN(dsn string) (*mysql.Config, error) {
	if dsn == "" {
		return nil, fmt.Errorf("no DSN: set --dsn or SRCTL_DSN")
	}
	if strings.HasPrefix(dsn, "mysql://") || strings.HasPrefix(dsn, "starrocks://") {
		u, err := url.Parse(dsn)
		// mysql://root:pw#x@host parses, but the '#' ended the URL inside the password, which
		// became the port of a host named root.
		cut := err == nil && u.User == nil && strings.Contains(dsn[strings.Index(dsn, "://")+3:], "@")
		if err != nil || cut {
			// url.Parse's error quotes the URL, or the bad escape inside the password.
			return nil, fmt.Errorf("DSN %s: not a valid URL (percent-encode special characters in the password, e.g. %%23 for #)", Redact(dsn))
		}
		cfg := mysql.NewConfig()
		cfg.Net = "tcp"
		cfg.Addr = u.Host
		if u.Port() == "" {
			port := "3306"
			if u.Scheme == "starrocks" {
				port = "9030"
			}
			cfg.Addr = u.Hostname() + ":" + port
		}
		if u.User != nil {
			cfg.User = u.User.Username()
			cfg.Passwd, _ = u.User.Password()
		}
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		for k, vs := range u.Query() {
			if cfg.Params == nil {
				cfg.Params = map[string]string{}
			}
			cfg.Params[k] = vs[len(vs)-1]
		}
		return cfg, nil
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("DSN %s: %w", Redact(dsn), redact.Error(err, redact.Secrets(dsn)...))
	}
	return cfg, nil
}

// Redact hides the credentials of a DSN in any form (see package redact), for reports and
// errors.
func Redact(dsn string) string { return redact.DSN(dsn) }
