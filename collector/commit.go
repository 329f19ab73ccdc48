package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/srctl/srctl/lakehouse"
)

// Committer is a sink that stores a batch of records and the collector's checkpoint in one
// atomic commit (an Iceberg table: records and checkpoint in one snapshot). The sink is then the
// checkpoint: a restart resumes from the last commit, so a crash neither loses a record nor
// stores one twice.
//
// Commit must be idempotent per batch id: a commit whose outcome was unknown is retried with
// the same id and must not add the batch again. LoadCheckpoint returns the checkpoint of the
// newest commit for cluster, or nil when there is none. Both are called from one goroutine.
type Committer interface {
	Commit(ctx context.Context, recs []*lakehouse.ProfileRecord, batchID string, checkpoint []byte) error
	LoadCheckpoint(ctx context.Context, cluster string) ([]byte, error)
	String() string
}

// commitBatch commits batch with the checkpoint it makes true: the durable cursors as they are
// (still below the batch, whose records are not acknowledged yet) plus the batch's query ids
// among the ids written above the cursors. A restart from it skips exactly what is committed.
// On failure the whole batch is returned for spilling.
func (w *writer) commitBatch(ctx context.Context, cm Committer, batch []*pending, batchID string) ([]*pending, error) {
	cp := w.c.checkpointState()
	recs := make([]*lakehouse.ProfileRecord, len(batch))
	var seqs []int64
	for i, p := range batch {
		recs[i] = p.rec
		if p.seq > 0 {
			seqs = append(seqs, p.seq)
		}
		if p.tracker == nil {
			continue // replayed from a spill file: the cursor already covers it
		}
		fc := cp.FEs[p.rec.FEHost]
		fc.WrittenAbove = append(fc.WrittenAbove, p.rec.QueryID)
		cp.FEs[p.rec.FEHost] = fc
	}
	// The commit makes its own records uploaded: a restart must not upload them again.
	cp.Journal.Through = w.c.j.throughAfter(seqs)
	cp.Written = time.Now().UTC()
	data, err := json.Marshal(cp)
	if err != nil {
		return batch, err
	}
	if batchID == "" {
		batchID = w.batchID(recs)
	}
	// A commit writes Parquet files and talks to the catalog: more than one request's time.
	if err := w.retry(ctx, "committing "+batchID, max(w.c.cfg.RequestTimeout, time.Minute), func(actx context.Context) error {
		return cm.Commit(actx, recs, batchID, data)
	}); err != nil {
		return batch, err
	}
	w.written(len(batch), 0)
	return nil, nil
}

// batchID names a batch by its records, so a retried commit of the same batch has the same id.
func (w *writer) batchID(recs []*lakehouse.ProfileRecord) string {
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.FEHost + "/" + r.QueryID
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
	}
	return "collect-" + w.c.cfg.Cluster + "-" + hex.EncodeToString(h.Sum(nil)[:12])
}

// loadCommittedCheckpoint reads the checkpoint from the committer, for Run.
func loadCommittedCheckpoint(ctx context.Context, cm Committer, cluster string) (checkpoint, error) {
	cp := checkpoint{Version: 1, Cluster: cluster, FEs: map[string]feCheckpoint{}}
	data, err := cm.LoadCheckpoint(ctx, cluster)
	if err != nil {
		return cp, fmt.Errorf("reading the checkpoint from %s: %w", cm, err)
	}
	if data == nil {
		return cp, nil
	}
	var got checkpoint
	if err := json.Unmarshal(data, &got); err != nil {
		return cp, fmt.Errorf("the checkpoint in %s is corrupt: %w", cm, err)
	}
	if got.FEs != nil {
		cp.FEs = got.FEs
	}
	cp.Journal = got.Journal
	return cp, nil
}
