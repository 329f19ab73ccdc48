// Package sink is the one way out to the lake: srctl collect and srctl shadow store their
// records through a Writer, whatever the store.
//
// A Writer stores a Batch exactly once per batch id: writing the same id again (a retry after a
// timeout whose outcome was unknown, a spill replayed after a restart) must not store its records
// a second time. JSONL writes Hive-partitioned objects named after the batch id, so a rewrite
// replaces the same objects; the Iceberg writers (lakehouse/icelake) record the id in the
// snapshot and skip ids already committed. sinktest.Run checks the contract on every
// implementation.
package sink

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/objstore"
)

// Batch is records stored together under one id.
type Batch[R any] struct {
	// ID names the batch (see NewBatchID, DerivedBatchID). It is also the file name of its
	// JSONL objects, so it holds only [0-9A-Za-z_-].
	ID      string
	Records []R
	// Checkpoint, when set, is stored by a CheckpointStore in the same atomic commit as the
	// records, under CheckpointKey; other writers ignore it.
	Checkpoint    []byte
	CheckpointKey string
}

// Writer stores batches. Write is idempotent per Batch.ID and is called from one goroutine at a
// time; it honours ctx's deadline and cancellation, and a failed Write may have stored part of
// the batch: the caller retries the same batch (same id, same records) until it succeeds.
type Writer[R any] interface {
	Write(ctx context.Context, b Batch[R]) error
	String() string // where records go, for logs (no secrets)
}

// CheckpointStore is a Writer that keeps a checkpoint with each batch (an Iceberg table: records
// and checkpoint in one snapshot). LoadCheckpoint returns the newest checkpoint stored under key,
// or nil when there is none.
type CheckpointStore interface {
	LoadCheckpoint(ctx context.Context, key string) ([]byte, error)
}

const idTime = "20060102_150405"

// NewBatchID names a new batch sealed at t: YYYYMMDD_HHMMSS_<8 random hex>, the object names
// FORMATS.md describes (they sort by time within a partition).
func NewBatchID(t time.Time) string {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	return t.UTC().Format(idTime) + "_" + hex.EncodeToString(rnd[:])
}

// DerivedBatchID names a batch by its contents: t (e.g. its earliest record) and a digest of the
// records' keys, given in a canonical order. The same records always get the same id, so a batch
// formed again after a restart is recognised by an idempotent writer.
func DerivedBatchID(t time.Time, sortedKeys []string) string {
	h := sha256.New()
	for _, k := range sortedKeys {
		h.Write([]byte(k))
		h.Write([]byte{0})
	}
	return t.UTC().Format(idTime) + "_" + hex.EncodeToString(h.Sum(nil)[:4])
}

// JSONL stores each batch as Hive-partitioned JSONL objects in a bucket: one object per hour of
// the records' partition time, at year=/month=/day=/hour=/<batch id>.jsonl. Writing a batch
// again puts the same objects again (a replacement, not a duplicate).
type JSONL[R any] struct {
	Bucket objstore.Bucket
	// Hour is the time a record is filed under (its partition hour is taken from it).
	Hour func(R) time.Time
	// Append appends a record's JSON line, without the newline, to dst.
	Append func(dst []byte, r R) ([]byte, error)
	// Line, when set, returns a record's line already encoded (its JSON and the newline), or nil.
	// When the lines of an object's records lie one after another in one array (a view of the
	// same buffer, in order: see contiguousLines), the object is put from that array as it is,
	// without copying the records into an object body; otherwise they are encoded with Append.
	Line func(R) []byte

	buf []byte // kept between writes: objects of one batch reuse it
}

// contiguousLines returns the lines as one slice when each ends with a newline and starts where
// the one before it ends, inside the first line's capacity (views of one buffer, in order), else
// false. The span is a reslice of the first line: it stays inside that line's array, whatever
// lies around it.
func contiguousLines(lines [][]byte) ([]byte, bool) {
	if len(lines) == 0 || !isLine(lines[0]) {
		return nil, false
	}
	span := lines[0]
	for _, l := range lines[1:] {
		n := len(span)
		if !isLine(l) || cap(span)-n < len(l) || &span[:n+1][n] != &l[0] {
			return nil, false
		}
		span = span[:n+len(l)]
	}
	return span, true
}

func isLine(l []byte) bool { return len(l) > 1 && l[len(l)-1] == '\n' }

func (j *JSONL[R]) String() string { return j.Bucket.String() }

// Write implements Writer.
func (j *JSONL[R]) Write(ctx context.Context, b Batch[R]) error {
	if len(b.Records) == 0 {
		return nil
	}
	if err := ValidBatchID(b.ID); err != nil {
		return err
	}
	hours := map[time.Time][]int{}
	var order []time.Time
	for i, r := range b.Records {
		h := j.Hour(r).UTC().Truncate(time.Hour)
		if _, ok := hours[h]; !ok {
			order = append(order, h)
		}
		hours[h] = append(hours[h], i)
	}
	slices.SortFunc(order, time.Time.Compare)
	var lines [][]byte
	for _, h := range order {
		data, ok := []byte(nil), false
		if j.Line != nil {
			lines = lines[:0]
			for _, i := range hours[h] {
				lines = append(lines, j.Line(b.Records[i]))
			}
			data, ok = contiguousLines(lines)
		}
		if !ok {
			data = j.buf[:0]
			var err error
			for _, i := range hours[h] {
				if data, err = j.Append(data, b.Records[i]); err != nil {
					return fmt.Errorf("encoding a record of batch %s: %w", b.ID, err)
				}
				data = append(data, '\n')
			}
			j.buf = data
		}
		key := ObjectKey(h, b.ID)
		if err := j.Bucket.Put(ctx, key, data); err != nil {
			return fmt.Errorf("writing %s: %w", key, err)
		}
	}
	if cap(j.buf) > 64<<20 {
		j.buf = nil // one unusually large batch does not pin its buffer for good
	}
	return nil
}

// ObjectKey is where JSONL puts the records of partition hour h of batch id.
func ObjectKey(h time.Time, id string) string { return lakehouse.PartitionDir(h) + "/" + id + ".jsonl" }

// ValidBatchID says why id cannot name a batch (it is also a file name), or nil.
func ValidBatchID(id string) error {
	if id == "" {
		return fmt.Errorf("a batch needs an id")
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return fmt.Errorf("batch id %q: only letters, digits, _ and - are allowed", id)
		}
	}
	return nil
}
