// The server introspection the commands share: what a login may write.
package main

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/srctl/srctl/harness"
	"github.com/srctl/srctl/internal/redact"
	"github.com/srctl/srctl/shadowproxy"
)

// checkShadowGrants reads the shadow user's grants once the shadow answers and warns when they
// allow writes. It does not refuse to start: many shadows are only reachable with an admin
// account, and the statement classifier keeps writes off them (--mirror-writes aside).
func checkShadowGrants(ctx context.Context, cfg shadowproxy.Config, st *shadowproxy.Stats, lg *slog.Logger) {
	mc := mysql.NewConfig()
	mc.Net, mc.Addr, mc.User, mc.Passwd, mc.Timeout = "tcp", cfg.Shadow, cfg.ShadowUser, cfg.ShadowPassword, cfg.DialTimeout
	mc.TLS = cfg.ShadowTLS
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout+5*time.Second)
		conn, err := db.Conn(cctx)
		var writes []string
		if err == nil {
			writes, err = harness.WritePrivileges(cctx, conn)
			conn.Close()
		}
		cancel()
		if err == nil {
			if len(writes) > 0 {
				st.ShadowUserCanWrite.Store(1)
				lg.Warn("the shadow user can write: only the statement classifier keeps writes off the shadow; give it SELECT only where you can",
					"shadow_user", cfg.ShadowUser, "privileges", strings.Join(writes, "; "))
			} else {
				st.ShadowUserCanWrite.Store(0)
			}
			return
		}
		if attempt == 0 {
			lg.Info("cannot read the shadow user's grants yet; retrying", "err", redact.Error(err, cfg.ShadowPassword))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(30 * time.Second):
		}
	}
}
