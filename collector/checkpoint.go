package collector

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/srctl/srctl/lakehouse/objstore"
)

const checkpointFile = "cursors.json"

// checkpoint is the durable state of the collector: per FE, the eventTime up to which every
// record is durable (in the sink or in a spill file). Polling resumes strictly after it.
type checkpoint struct {
	Version int                     `json:"version"`
	Cluster string                  `json:"cluster"`
	Written time.Time               `json:"written"`
	FEs     map[string]feCheckpoint `json:"fes"`
	// Journal says which records of the local journal are in the sink.
	Journal *journalPos `json:"journal,omitempty"`
}

type feCheckpoint struct {
	Cursor int64 `json:"cursor"` // eventTime; 0 = from the whole cache; every record below is in the sink
	// JournalCursor is the eventTime below which every entry is in the journal (at or above
	// Cursor): polling resumes from it when the journal is there.
	JournalCursor int64 `json:"journal_cursor,omitempty"`
	// PolledTo is the FE's clock at the last poll whose entries were all journaled.
	PolledTo time.Time `json:"polled_to,omitzero"`
	LastPoll time.Time `json:"last_poll"` // last successful poll, for gap detection after restarts
	LastSeen time.Time `json:"last_seen"` // last time discovery listed the FE; dropped an hour after
	// WrittenAbove are query ids already durable but above Cursor (written while an older entry
	// still waited for its profile). A restart seeds the dedup cache with them, so a crash repeats
	// only what was written between the last checkpoint and the crash.
	WrittenAbove []string `json:"written_above,omitempty"`
}

func loadCheckpoint(dir, cluster string) (checkpoint, error) {
	cp := checkpoint{Version: 1, Cluster: cluster, FEs: map[string]feCheckpoint{}}
	name := filepath.Join(dir, checkpointFile)
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return cp, nil
	}
	if err != nil {
		return cp, fmt.Errorf("reading checkpoint: %w", err)
	}
	var got checkpoint
	if err := json.Unmarshal(data, &got); err != nil {
		return cp, fmt.Errorf("checkpoint %s is corrupt (move it away to restart from the FEs' caches): %w", name, err)
	}
	if got.Cluster != "" && got.Cluster != cluster {
		return cp, fmt.Errorf("checkpoint %s belongs to cluster %q, not %q: use another --state-dir per cluster", name, got.Cluster, cluster)
	}
	if got.FEs != nil {
		cp.FEs = got.FEs
	}
	cp.Journal = got.Journal
	return cp, nil
}

// save writes the checkpoint atomically (temp file, fsync, rename, fsync directory).
func (cp checkpoint) save(dir string) error {
	cp.Written = time.Now().UTC()
	data, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return err
	}
	return objstore.WriteFileAtomic(filepath.Join(dir, checkpointFile), data)
}
