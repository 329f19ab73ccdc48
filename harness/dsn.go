package harness

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// ParseDSN accepts go-sql-driver/mysql's format (user:pass@tcp(host:port)/db?params) or a URL
// (mysql://user:pass@host:port/db?params) and returns the driver's config.
func ParseDSN(dsn string) (*mysql.Config, error) {
	if dsn == "" {
		return nil, fmt.Errorf("no DSN: set --dsn or SRCTL_DSN")
	}
	if strings.HasPrefix(dsn, "mysql://") || strings.HasPrefix(dsn, "starrocks://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, fmt.Errorf("DSN %s: %w", Redact(dsn), err)
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
		return nil, fmt.Errorf("DSN %s: %w", Redact(dsn), err)
	}
	return cfg, nil
}

// Redact hides the password of a DSN in either format, for reports and errors. A string that
// does not parse is reduced to what precedes any credentials.
func Redact(dsn string) string {
	if strings.Contains(dsn, "://") {
		if u, err := url.Parse(dsn); err == nil {
			if u.User != nil {
				if _, has := u.User.Password(); has {
					u.User = url.UserPassword(u.User.Username(), "xxxxx")
				}
			}
			return strings.Replace(u.String(), "xxxxx", "***", 1)
		}
		if i := strings.LastIndex(dsn, "@"); i >= 0 {
			return dsn[:strings.Index(dsn, "://")+3] + "***@" + dsn[i+1:]
		}
		return dsn
	}
	at := strings.LastIndex(dsn, "@")
	if at < 0 {
		return dsn
	}
	cred := dsn[:at]
	if i := strings.IndexByte(cred, ':'); i >= 0 {
		return cred[:i] + ":***" + dsn[at:]
	}
	return dsn
}
