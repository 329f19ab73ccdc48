package icelake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/srctl/srctl/internal/testenv"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/sink"
	"github.com/srctl/srctl/lakehouse/sink/sinktest"
)

// catalogs open a new, empty lake per call: SQLite in a temporary directory, and PostgreSQL
// (a catalog of its own name, its table dropped at the end).
var catalogs = map[string]func(t *testing.T, table string) (*Lake, URI){
	"sqlite": func(t *testing.T, table string) (*Lake, URI) {
		return openLake(t, t.TempDir()), URI{Catalog: "local", Namespace: "srctl", Table: table}
	},
	"postgres": func(t *testing.T, table string) (*Lake, URI) {
		dsn := testenv.PostgresDSN(t)
		name := fmt.Sprintf("srctl_sink_%d_%d", os.Getpid(), time.Now().UnixNano()%1e12)
		l, err := Open(context.Background(), Config{Name: name, PostgresDSN: dsn, Warehouse: "file://" + t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		u := URI{Catalog: name, Namespace: "srctl", Table: table}
		t.Cleanup(func() {
			l.cat.DropTable(context.Background(), u.Ident())
			l.Close()
		})
		return l, u
	},
}

func TestWritersConformance(t *testing.T) {
	for name, open := range catalogs {
		t.Run(name+"/proxy_logs", func(t *testing.T) {
			sinktest.Run(t, sinktest.Harness[*lakehouse.ProxyLogRecord]{
				Open: func(t *testing.T) (sink.Writer[*lakehouse.ProxyLogRecord], func() []*lakehouse.ProxyLogRecord) {
					l, u := open(t, "proxy_logs")
					return NewProxyLogWriter(l, u, "sinktest"), func() []*lakehouse.ProxyLogRecord {
						var got []*lakehouse.ProxyLogRecord
						err := l.ReadProxyLogs(context.Background(), u.Ident(), time.Time{}, time.Time{}, func(rs []lakehouse.ProxyLogRecord) error {
							for _, r := range rs {
								got = append(got, &r) // a copy: rs is reused
							}
							return nil
						})
						if err != nil && !isNoTable(err) {
							t.Fatal(err)
						}
						return got
					}
				},
				Record: func(i int, ts time.Time) *lakehouse.ProxyLogRecord {
					return &lakehouse.ProxyLogRecord{TS: ts, QueryID: fmt.Sprintf("q%05d", i), Target: "shadow", Command: "COM_QUERY", DurationMS: 2}
				},
				Key: func(r *lakehouse.ProxyLogRecord) string { return r.QueryID },
			})
		})
		t.Run(name+"/profiles", func(t *testing.T) {
			sinktest.Run(t, sinktest.Harness[*lakehouse.ProfileRecord]{
				Open: func(t *testing.T) (sink.Writer[*lakehouse.ProfileRecord], func() []*lakehouse.ProfileRecord) {
					l, u := open(t, "profiles")
					return NewProfileWriter(l, u), func() []*lakehouse.ProfileRecord {
						var got []*lakehouse.ProfileRecord
						err := l.ReadProfiles(context.Background(), u.Ident(), time.Time{}, time.Time{}, func(rs []lakehouse.ProfileRecord) error {
							for _, r := range rs {
								got = append(got, &r) // a copy: rs is reused
							}
							return nil
						})
						if err != nil && !isNoTable(err) {
							t.Fatal(err)
						}
						return got
					}
				},
				Record: func(i int, ts time.Time) *lakehouse.ProfileRecord {
					return &lakehouse.ProfileRecord{TS: ts, StartTime: ts, Cluster: "prod", QueryID: fmt.Sprintf("q%05d", i), State: "FINISHED"}
				},
				Key: func(r *lakehouse.ProfileRecord) string { return r.Key() },
			})
		})
	}
}

// isNoTable: nothing was ever written (an empty batch creates no table).
func isNoTable(err error) bool { return errors.Is(err, catalog.ErrNoSuchTable) }
