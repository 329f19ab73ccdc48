package collector

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/icelake"
	"github.com/srctl/srctl/testdouble/fedouble"
)

// TestFourCollectorsOneIcebergTable: collectors of four clusters commit to one Iceberg table at
// once, each through its own catalog connection; then a restart of each resumes from its own
// checkpoint in the table. No commit is lost, none doubled, every cluster's queries are there.
func TestFourCollectorsOneIcebergTable(t *testing.T) {
	lakeDir := t.TempDir()
	u, _ := lakehouse.ParseTableURI("iceberg://local/srctl.profiles")
	const clusters, perCluster = 4, 40
	type run struct {
		env  *testEnv
		lake *icelake.Lake
	}
	var runs []run
	for i := range clusters {
		e := newTestEnv(t, fedouble.Config{})
		lake, err := icelake.Open(context.Background(), icelake.Config{Dir: lakeDir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lake.Close() })
		e.cfg.Cluster = fmt.Sprintf("c%d", i)
		e.cfg.Sink = TableSink(icelake.NewProfileWriter(lake, u))
		runs = append(runs, run{e, lake})
	}
	workload := func(from, to int) []func() error {
		var wg sync.WaitGroup
		var stops []func() error
		for i, r := range runs {
			stops = append(stops, r.env.run(t, r.env.cfg))
			wg.Go(func() {
				for j := from; j < to; j++ {
					id := fmt.Sprintf("c%d-q%d", i, j)
					r.env.fe.Begin(fedouble.Query{ID: id, SQL: fmt.Sprintf("SELECT %d", j), HasProfile: true, ProfileBytes: 500})
					r.env.fe.End(id)
					time.Sleep(10 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		return stops
	}
	count := func() map[string]int {
		seen := map[string]int{}
		runs[0].lake.ReadProfiles(context.Background(), u.Ident(), time.Time{}, time.Time{}, func(rs []lakehouse.ProfileRecord) error {
			for _, r := range rs {
				seen[r.Cluster+"/"+r.QueryID]++
			}
			return nil
		})
		return seen
	}
	// First runs, stopped; then restarts, which resume from the table's checkpoints and must
	// not collect again what the FEs still hold.
	stops := workload(0, perCluster)
	// Generous deadlines: four writers contend for one SQLite catalog, and under -race on a
	// loaded 2-core machine their retried commits take tens of seconds (waits end when done).
	waitFor(t, "every query in the table", 90*time.Second, func() bool { return len(count()) >= clusters*perCluster })
	for _, stop := range stops {
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	stops = workload(perCluster, perCluster+10)
	waitFor(t, "the queries after the restart", 90*time.Second, func() bool { return len(count()) >= clusters*(perCluster+10) })
	time.Sleep(500 * time.Millisecond) // a repeat would land within a flush or two
	for _, stop := range stops {
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	seen := count()
	if len(seen) != clusters*(perCluster+10) {
		t.Errorf("%d distinct queries, want %d", len(seen), clusters*(perCluster+10))
	}
	for key, n := range seen {
		if n != 1 {
			t.Errorf("%s is in the table %d times", key, n)
		}
	}
	// Each cluster's checkpoint is its own and names its FE.
	for _, r := range runs {
		data, err := icelake.NewProfileWriter(r.lake, u).LoadCheckpoint(context.Background(), CheckpointKey(r.env.cfg.Cluster))
		if err != nil || data == nil {
			t.Fatalf("no checkpoint for %s: %v", r.env.cfg.Cluster, err)
		}
		cp, err := loadCommittedCheckpoint(context.Background(), icelake.NewProfileWriter(r.lake, u), "table", r.env.cfg.Cluster)
		if err != nil || len(cp.FEs) != 1 {
			t.Errorf("%s: checkpoint %+v, %v", r.env.cfg.Cluster, cp, err)
		}
		for host := range cp.FEs {
			if host != r.env.cfg.FEHosts[0][len("http://"):] {
				t.Errorf("%s: checkpoint of FE %s, want %s", r.env.cfg.Cluster, host, r.env.cfg.FEHosts[0])
			}
		}
	}
}
