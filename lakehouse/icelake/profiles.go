package icelake

import (
	"context"
	"reflect"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go/table"

	"github.com/srctl/srctl/lakehouse"
)

// profileColumns are the profiles table's columns: every key of lakehouse.ProfileRecord, the
// profile's headline metrics flattened to metric_* columns, tags and top operators as JSON.
var profileColumns = columnsOf(reflect.TypeFor[lakehouse.ProfileRecord](), "", nil,
	map[string]bool{"ts": true, "cluster": true, "sr_query_id": true})

// ProfilesDef is the profiles table: one row per terminal StarRocks query with its profile,
// partitioned by day(start_time).
var ProfilesDef = Def{
	Doc:       "StarRocks queries in their terminal state (FINISHED, FAILED, CANCELLED) with their execution profiles, as srctl collect gathers them from every FE.",
	Partition: "start_time",
	Schema: schemaOf(profileColumns, map[string]string{
		"ts":                   "when srctl collected the record",
		"fe_host":              "FE that served the entry, host:port",
		"cluster":              "collector --cluster",
		"sr_query_id":          "StarRocks query id (UUID)",
		"state":                "FINISHED, FAILED or CANCELLED",
		"start_time":           "query start (partition column)",
		"end_time":             "query end",
		"duration_ms":          "FE latency, ms",
		"sql_text":             "SQL as the FE recorded it",
		"query_hash":           "lowercase hex MD5 of sql_text",
		"profile_text":         "raw profile text (empty when none was available)",
		"event_time":           "FE eventTime of the terminal entry (per-FE cursor)",
		"profile_status":       "ok, not_found, error, too_large, unauthorized or skipped",
		"fingerprint_hash":     "hex MD5 of the literal-free fingerprint",
		"endpoint":             "from sqlcommenter or Marginalia tags, or an endpoint rule",
		"tags":                 "comment tags as a JSON object",
		"metric_cpu_ns":        "profile QueryCumulativeCpuTime, ns",
		"metric_top_operators": "operators with the largest share of OperatorTotalTime, JSON",
	}),
}

// AppendProfiles appends records to the profiles table ident as batch id, exactly once, with
// snapshot summary properties props and table properties tableProps in the same commit.
func (l *Lake) AppendProfiles(ctx context.Context, ident table.Identifier, recs []*lakehouse.ProfileRecord, batchID string, props, tableProps map[string]string) (AppendResult, error) {
	return l.appendRows(ctx, ident, ProfilesDef, len(recs), func(i int) time.Time { return recs[i].StartTime },
		func(schema *arrow.Schema, rows []int) (arrow.RecordBatch, error) {
			sub := make([]*lakehouse.ProfileRecord, len(rows))
			for k, i := range rows {
				sub[k] = recs[i]
			}
			return recordBatch(schema, profileColumns, reflect.ValueOf(sub))
		}, batchID, props, tableProps)
}

// ReadProfiles calls fn with the records of the profiles table whose start_time is between
// since and until (zero: unbounded), in batches; the slice is reused between calls.
func (l *Lake) ReadProfiles(ctx context.Context, ident table.Identifier, since, until time.Time, fn func([]lakehouse.ProfileRecord) error) error {
	byName := map[string]column{}
	for _, c := range profileColumns {
		byName[c.name] = c
	}
	var recs []lakehouse.ProfileRecord
	_, err := l.scanInOrder(ctx, ident, "start_time", since, until, func(batch arrow.RecordBatch) error {
		n := int(batch.NumRows())
		recs = append(recs[:0], make([]lakehouse.ProfileRecord, n)...)
		for ci, f := range batch.Schema().Fields() {
			c, ok := byName[f.Name]
			if !ok {
				continue
			}
			col := batch.Column(ci)
			for i := range n {
				c.set(reflect.ValueOf(&recs[i]).Elem(), col, i)
			}
		}
		return fn(recs)
	})
	return err
}
