package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/srctl/srctl/lakehouse/sink"
)

// checkpointWith is the checkpoint that storing batch makes true, for a sink that keeps it with
// the batch: the durable cursors as they are (still below the batch, whose records are not
// acknowledged yet) plus the batch's query ids among the ids written above the cursors, and the
// journal position including the batch. A restart from it skips exactly what is stored.
func (w *writer) checkpointWith(batch []*pending) ([]byte, error) {
	cp := w.position()
	var seqs []int64
	for _, p := range batch {
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
	// The write makes its own records uploaded: a restart must not upload them again.
	cp.Journal.Through = w.j.throughAfter(seqs)
	cp.Written = time.Now().UTC()
	return json.Marshal(cp)
}

// batchID names a batch by its records (the hour of the earliest and a digest of their FE and
// query ids), so a retried or replayed batch of the same records has the same id.
func batchID(batch []*pending) string {
	keys := make([]string, len(batch))
	var first time.Time
	for i, p := range batch {
		keys[i] = p.fe + "/" + p.queryID
		if h := p.partition(); first.IsZero() || h.Before(first) {
			first = h
		}
	}
	slices.Sort(keys)
	return sink.DerivedBatchID(first, keys)
}

// loadCommittedCheckpoint reads the checkpoint from the committer, for Run.
func loadCommittedCheckpoint(ctx context.Context, cm sink.CheckpointStore, name, cluster string) (checkpoint, error) {
	cp := checkpoint{Version: 1, Cluster: cluster, FEs: map[string]feCheckpoint{}}
	data, err := cm.LoadCheckpoint(ctx, CheckpointKey(cluster))
	if err != nil {
		return cp, fmt.Errorf("reading the checkpoint from %s: %w", name, err)
	}
	if data == nil {
		return cp, nil
	}
	var got checkpoint
	if err := json.Unmarshal(data, &got); err != nil {
		return cp, fmt.Errorf("the checkpoint in %s is corrupt: %w", name, err)
	}
	if got.FEs != nil {
		cp.FEs = got.FEs
	}
	cp.Journal = got.Journal
	return cp, nil
}
