package collector

import (
	"fmt"
	"testing"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/testdouble/fedouble"
)

// BenchmarkJournalRecover measures what a restart spends reading its journal before it polls:
// one full segment (64 MiB) of details and records with 100-400 KB profiles, the load of the
// collect issue's defaults scenario (60 queries/s).
func BenchmarkJournalRecover(b *testing.B) {
	dir := b.TempDir()
	j, _, err := openJournal(dir, journalOptions{recycle: true})
	if err != nil {
		b.Fatal(err)
	}
	var bytes int64
	for i := 0; bytes < journalSegmentBytes-(400<<10); i++ {
		id := fmt.Sprintf("q-%06d", i)
		d := &QueryDetail{QueryID: id, EventTime: int64(1_700_000_000_000_000_000 + i), State: "FINISHED",
			SQL: "SELECT a, b FROM t WHERE c > 1 AND d < 'x' /*route='/api/v1/x'*/", User: "app"}
		if err := j.appendDetail("fe-0:8030", d, func() {}); err != nil {
			b.Fatal(err)
		}
		text := fedouble.GenerateProfile(id, d.SQL, "FINISHED", (100+i*37%300)<<10)
		if err := j.appendRecord("fe-0:8030", &lakehouse.ProfileRecord{QueryID: id, EventTime: d.EventTime,
			FEHost: "fe-0:8030", State: "FINISHED", ProfileText: text, ProfileStatus: "ok"}, func(int64, journalLoc) {}); err != nil {
			b.Fatal(err)
		}
		bytes += int64(len(text))
	}
	j.syncNow()
	if err := j.close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(bytes)
	b.ResetTimer()
	for range b.N {
		j, rec, err := openJournal(dir, journalOptions{recycle: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if len(rec.records) == 0 {
			b.Fatal("nothing recovered")
		}
		j.close()
		b.StartTimer()
	}
}
