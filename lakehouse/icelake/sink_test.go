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

// harness runs the suite on a writer of records R to a new table of each catalog; read reads the
// table back (nothing when no table was ever created: an empty batch creates none).
func harness[R any](open func(t *testing.T, table string) (*Lake, URI), table string, newWriter func(*Lake, URI) sink.Writer[R],
	read func(ctx context.Context, l *Lake, u URI, fn func(R)) error, rec func(int, time.Time) R, key func(R) string) sinktest.Harness[R] {
	return sinktest.Harness[R]{
		Open: func(t *testing.T) (sink.Writer[R], func() []R) {
			l, u := open(t, table)
			return newWriter(l, u), func() []R {
				var got []R
				if err := read(context.Background(), l, u, func(r R) { got = append(got, r) }); err != nil && !isNoTable(err) {
					t.Fatal(err)
				}
				return got
			}
		},
		Record: rec,
		Key:    key,
	}
}

func TestWritersConformance(t *testing.T) {
	for name, open := range catalogs {
		t.Run(name+"/proxy_logs", func(t *testing.T) {
			sinktest.Run(t, harness(open, "proxy_logs",
				func(l *Lake, u URI) sink.Writer[*lakehouse.ProxyLogRecord] {
					return NewProxyLogWriter(l, u, "sinktest")
				},
				func(ctx context.Context, l *Lake, u URI, fn func(*lakehouse.ProxyLogRecord)) error {
					return l.ReadProxyLogs(ctx, u.Ident(), time.Time{}, time.Time{}, func(rs []lakehouse.ProxyLogRecord) error {
						for _, r := range rs {
							fn(&r) // a copy: rs is reused
						}
						return nil
					})
				},
				func(i int, ts time.Time) *lakehouse.ProxyLogRecord {
					return &lakehouse.ProxyLogRecord{TS: ts, QueryID: fmt.Sprintf("q%05d", i), Target: "shadow", Command: "COM_QUERY", DurationMS: 2}
				},
				func(r *lakehouse.ProxyLogRecord) string { return r.QueryID }))
		})
		t.Run(name+"/profiles", func(t *testing.T) {
			sinktest.Run(t, harness(open, "profiles",
				func(l *Lake, u URI) sink.Writer[*lakehouse.ProfileRecord] { return NewProfileWriter(l, u) },
				func(ctx context.Context, l *Lake, u URI, fn func(*lakehouse.ProfileRecord)) error {
					return l.ReadProfiles(ctx, u.Ident(), time.Time{}, time.Time{}, func(rs []lakehouse.ProfileRecord) error {
						for _, r := range rs {
							fn(&r)
						}
						return nil
					})
				},
				func(i int, ts time.Time) *lakehouse.ProfileRecord {
					return &lakehouse.ProfileRecord{TS: ts, StartTime: ts, Cluster: "prod", QueryID: fmt.Sprintf("q%05d", i), State: "FINISHED"}
				},
				func(r *lakehouse.ProfileRecord) string { return r.Key() }))
		})
	}
}

// isNoTable: nothing was ever written (an empty batch creates no table).
func isNoTable(err error) bool { return errors.Is(err, catalog.ErrNoSuchTable) }
