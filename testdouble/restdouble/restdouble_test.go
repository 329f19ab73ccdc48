package restdouble_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/icelake"
	"github.com/srctl/srctl/lakehouse/sink"
	"github.com/srctl/srctl/testdouble/restdouble"
)

// TestRESTCatalog: srctl's lake over iceberg-go's REST client, against the REST catalog
// double: tables created, two writers committing at once (409s retried), rows read back,
// profiles with a collector checkpoint.
func TestRESTCatalog(t *testing.T) {
	dir := t.TempDir()
	srvCat, err := restdouble.New(filepath.Join(dir, "rest.db"), "file://"+filepath.Join(dir, "warehouse"))
	if err != nil {
		t.Fatal(err)
	}
	defer srvCat.Close()
	srv := httptest.NewServer(srvCat)
	defer srv.Close()
	open := func() *icelake.Lake {
		l, err := icelake.Open(context.Background(), icelake.Config{Name: "rest", RESTURI: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	a, b := open(), open()
	u, _ := lakehouse.ParseTableURI("iceberg://rest/srctl.proxy_logs")
	var wg sync.WaitGroup
	for i, l := range []*icelake.Lake{a, b} {
		wg.Go(func() {
			for j := range 4 {
				id := fmt.Sprintf("rest-%d-%d", i, j)
				recs := []lakehouse.ProxyLogRecord{{TS: time.Date(2026, 3, 5, 10, i, j, 0, time.UTC), QueryID: id, Target: "primary", Command: "COM_QUERY"}}
				if _, err := l.AppendProxyLogs(context.Background(), u.Ident(), recs, id, nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	n := 0
	if err := a.ReadProxyLogs(context.Background(), u.Ident(), time.Time{}, time.Time{}, func(rs []lakehouse.ProxyLogRecord) error {
		n += len(rs)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 8 {
		t.Errorf("%d rows through the REST catalog, want 8", n)
	}
	if c := srvCat.Commits.Load(); c < 8 {
		t.Errorf("%d commits reached the server, want at least 8", c)
	}
	pu, _ := lakehouse.ParseTableURI("iceberg://rest/srctl.profiles")
	pw := icelake.NewProfileWriter(a, pu)
	rec := &lakehouse.ProfileRecord{TS: time.Now().UTC(), Cluster: "prod", QueryID: "q1", StartTime: time.Now().UTC()}
	if err := pw.Write(context.Background(), sink.Batch[*lakehouse.ProfileRecord]{ID: "b1", Records: []*lakehouse.ProfileRecord{rec},
		Checkpoint: []byte(`{"fes":{}}`), CheckpointKey: "srctl.collector-checkpoint.prod"}); err != nil {
		t.Fatal(err)
	}
	if cp, err := icelake.NewProfileWriter(b, pu).LoadCheckpoint(context.Background(), "srctl.collector-checkpoint.prod"); err != nil || string(cp) != `{"fes":{}}` {
		t.Errorf("checkpoint through REST: %s %v", cp, err)
	}
}
