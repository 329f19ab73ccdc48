package icelake

import (
	"context"
	"errors"

	"github.com/apache/iceberg-go/catalog"

	"github.com/srctl/srctl/lakehouse"
)

// CheckpointKey is the snapshot-summary property, and the table property, holding a
// collector's checkpoint (JSON), one per cluster so that several clusters' collectors can write
// one table. The summary records it with the commit it belongs to; the table property, set in
// the same commit, is the newest one and survives snapshot expiry.
func CheckpointKey(cluster string) string { return "srctl.collector-checkpoint." + cluster }

// ProfileSink commits collector batches to a profiles table: records and the collector's
// checkpoint in one snapshot (it is a collector.Committer).
type ProfileSink struct {
	lake *Lake
	uri  URI
}

// NewProfileSink writes to the profiles table u of l.
func NewProfileSink(l *Lake, u URI) *ProfileSink { return &ProfileSink{lake: l, uri: u} }

func (s *ProfileSink) String() string { return s.uri.String() }

// Commit appends recs as batch batchID with the checkpoint, exactly once.
func (s *ProfileSink) Commit(ctx context.Context, recs []*lakehouse.ProfileRecord, batchID string, checkpoint []byte) error {
	cluster := ""
	if len(recs) > 0 {
		cluster = recs[0].Cluster
	}
	key := CheckpointKey(cluster)
	_, err := s.lake.AppendProfiles(ctx, s.uri.Ident(), recs, batchID,
		map[string]string{"srctl.operation": "collect", key: string(checkpoint)},
		map[string]string{key: string(checkpoint)})
	return err
}

// LoadCheckpoint returns the checkpoint of cluster's newest snapshot (nil: none, or no table).
func (s *ProfileSink) LoadCheckpoint(ctx context.Context, cluster string) ([]byte, error) {
	tbl, err := s.lake.cat.LoadTable(ctx, s.uri.Ident())
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	key := CheckpointKey(cluster)
	if v, ok := tbl.Properties()[key]; ok {
		return []byte(v), nil
	}
	// Tables written before the property existed: the newest snapshot that carries it.
	var best []byte
	var bestSeq int64 = -1
	for _, snap := range tbl.Metadata().Snapshots() {
		if snap.Summary == nil {
			continue
		}
		if v, ok := snap.Summary.Properties[key]; ok && snap.SequenceNumber > bestSeq {
			best, bestSeq = []byte(v), snap.SequenceNumber
		}
	}
	return best, nil
}
