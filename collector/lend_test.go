package collector

import (
	"encoding/json"
	"testing"

	profilepkg "github.com/srctl/srctl/analyze/profile"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/testdouble/fedouble"
)

// TestOwnRecordSharesNothingWithTheFetchBuffer: profile texts are lent from pooled fetch buffers
// (see feClient.profile); a record kept in memory (the journal failed) goes through ownRecord, and
// must read the same after the buffer is reused: the text, the state and the operator names its
// metrics took from the text included.
func TestOwnRecordSharesNothingWithTheFetchBuffer(t *testing.T) {
	buf := []byte(fedouble.GenerateProfile("q-1", "SELECT 1", "FINISHED", 40_000))
	lent := lendString(buf) // as feClient.profile hands it out
	m := profilepkg.ScanHeadlines(lent)
	if m.State == "" || len(m.TopOperators) == 0 {
		t.Fatalf("the generated profile has no state or operators: %+v", m)
	}
	rec := &lakehouse.ProfileRecord{QueryID: "q-1", ProfileText: lent, Metrics: &m}
	own := ownRecord(rec)
	before, err := json.Marshal(own)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'x' // the pool hands the buffer to the next fetch
	}
	after, _ := json.Marshal(own)
	if string(before) != string(after) {
		t.Fatalf("the owned record changed with the buffer:\nbefore %.300s\n after %.300s", before, after)
	}
}
