package icelake

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"

	"github.com/srctl/srctl/lakehouse"
)

// ProxyLogsDef is the proxy_logs table: one row per command per target, the keys of the
// shadow-proxy log (FORMATS.md section 1) as typed columns, partitioned by day(ts). Field ids
// are fixed here and never reused: a new key gets the next id.
var ProxyLogsDef = Def{
	Doc:       "Shadow-proxy query log: one row per command sent to one target (primary or shadow). Written by srctl.",
	Partition: "ts",
	Schema: iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "ts", Type: iceberg.PrimitiveTypes.TimestampTz, Required: true, Doc: "when the row was logged (completion, not start)"},
		iceberg.NestedField{ID: 2, Name: "query_id", Type: iceberg.PrimitiveTypes.String, Required: true, Doc: "mirrored packet id, the same on the primary and the shadow row"},
		iceberg.NestedField{ID: 3, Name: "target", Type: iceberg.PrimitiveTypes.String, Required: true, Doc: "primary or shadow"},
		iceberg.NestedField{ID: 4, Name: "command", Type: iceberg.PrimitiveTypes.String, Doc: "COM_QUERY, COM_STMT_EXECUTE, ..."},
		iceberg.NestedField{ID: 5, Name: "query_text", Type: iceberg.PrimitiveTypes.String, Doc: "SQL text (COM_QUERY only)"},
		iceberg.NestedField{ID: 6, Name: "query_hash", Type: iceberg.PrimitiveTypes.String, Doc: "lowercase hex MD5 of query_text"},
		iceberg.NestedField{ID: 7, Name: "duration_ms", Type: iceberg.PrimitiveTypes.Float64, Doc: "execution time on that target, ms"},
		iceberg.NestedField{ID: 8, Name: "bytes_sent", Type: iceberg.PrimitiveTypes.Int64, Doc: "bytes sent to the target"},
		iceberg.NestedField{ID: 9, Name: "bytes_recv", Type: iceberg.PrimitiveTypes.Int64, Doc: "bytes received from the target"},
		iceberg.NestedField{ID: 10, Name: "success", Type: iceberg.PrimitiveTypes.Bool, Doc: "false on transport errors (the existing proxy logs SQL errors as true)"},
		iceberg.NestedField{ID: 11, Name: "error", Type: iceberg.PrimitiveTypes.String, Doc: "error text when success is false"},
		iceberg.NestedField{ID: 12, Name: "client_addr", Type: iceberg.PrimitiveTypes.String, Doc: "client ip:port"},
		iceberg.NestedField{ID: 13, Name: "filtered", Type: iceberg.PrimitiveTypes.Bool, Doc: "synthetic shadow row of a query that was not mirrored"},
		iceberg.NestedField{ID: 14, Name: "filter_reason", Type: iceberg.PrimitiveTypes.String, Doc: "sql_operation, pattern or sampling"},
		iceberg.NestedField{ID: 15, Name: "error_code", Type: iceberg.PrimitiveTypes.Int32, Doc: "server error code (srctl shadow)"},
		iceberg.NestedField{ID: 16, Name: "sql_state", Type: iceberg.PrimitiveTypes.String, Doc: "SQLSTATE of the error (srctl shadow)"},
		iceberg.NestedField{ID: 17, Name: "rows", Type: iceberg.PrimitiveTypes.Int64, Doc: "rows returned (srctl shadow)"},
		iceberg.NestedField{ID: 18, Name: "affected_rows", Type: iceberg.PrimitiveTypes.Int64, Doc: "rows affected (srctl shadow)"},
		iceberg.NestedField{ID: 19, Name: "result_hash", Type: iceberg.PrimitiveTypes.String, Doc: "order-sensitive hash of the result (srctl shadow)"},
		iceberg.NestedField{ID: 20, Name: "result_set_hash", Type: iceberg.PrimitiveTypes.String, Doc: "order-insensitive hash of the result (srctl shadow)"},
		iceberg.NestedField{ID: 21, Name: "started_at", Type: iceberg.PrimitiveTypes.TimestampTz, Doc: "first byte of the command written to the target (srctl shadow)"},
		iceberg.NestedField{ID: 22, Name: "server_ms", Type: iceberg.PrimitiveTypes.Float64, Doc: "first request byte written to last answer byte read, ms, alike on both targets (srctl shadow)"},
		iceberg.NestedField{ID: 23, Name: "endpoint", Type: iceberg.PrimitiveTypes.String, Doc: "route tag, user rule or fingerprint class (srctl shadow)"},
		iceberg.NestedField{ID: 24, Name: "fingerprint", Type: iceberg.PrimitiveTypes.String, Doc: "fingerprint class id of the text (srctl shadow)"},
		iceberg.NestedField{ID: 25, Name: "dropped", Type: iceberg.PrimitiveTypes.Bool, Doc: "the mirror copy was not executed (srctl shadow)"},
		iceberg.NestedField{ID: 26, Name: "drop_reason", Type: iceberg.PrimitiveTypes.String, Doc: "queue_full, shadow_unavailable, shadow_login_failed, ... (srctl shadow)"},
		iceberg.NestedField{ID: 27, Name: "role", Type: iceberg.PrimitiveTypes.String, Doc: "source (answered the client) or mirror (srctl shadow)"},
		iceberg.NestedField{ID: 28, Name: "conn_id", Type: iceberg.PrimitiveTypes.Int64, Doc: "the proxy's client connection number (srctl shadow)"},
	),
}

// memAlloc allocates the Arrow buffers of written batches.
var memAlloc = memory.DefaultAllocator

// proxyLogBatch builds one Arrow record of recs in schema (the table's Arrow schema with field
// ids). Empty strings of optional keys are stored as null, as the JSONL omits them.
func proxyLogBatch(schema *arrow.Schema, recs []lakehouse.ProxyLogRecord) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(memAlloc, schema)
	defer b.Release()
	for i, f := range schema.Fields() {
		fb := b.Field(i)
		get, ok := proxyLogColumns[f.Name]
		if !ok {
			return nil, fmt.Errorf("proxy_logs column %s has no record field", f.Name)
		}
		for j := range recs {
			appendValue(fb, get(&recs[j]))
		}
	}
	return b.NewRecordBatch(), nil
}

// proxyLogColumns reads each column's value from a record; nil is null.
var proxyLogColumns = map[string]func(r *lakehouse.ProxyLogRecord) any{
	"ts":              func(r *lakehouse.ProxyLogRecord) any { return r.TS },
	"query_id":        func(r *lakehouse.ProxyLogRecord) any { return r.QueryID },
	"target":          func(r *lakehouse.ProxyLogRecord) any { return r.Target },
	"command":         func(r *lakehouse.ProxyLogRecord) any { return optString(r.Command) },
	"query_text":      func(r *lakehouse.ProxyLogRecord) any { return optString(r.QueryText) },
	"query_hash":      func(r *lakehouse.ProxyLogRecord) any { return optString(r.QueryHash) },
	"duration_ms":     func(r *lakehouse.ProxyLogRecord) any { return r.DurationMS },
	"bytes_sent":      func(r *lakehouse.ProxyLogRecord) any { return r.BytesSent },
	"bytes_recv":      func(r *lakehouse.ProxyLogRecord) any { return r.BytesRecv },
	"success":         func(r *lakehouse.ProxyLogRecord) any { return r.Success },
	"error":           func(r *lakehouse.ProxyLogRecord) any { return optString(r.Error) },
	"client_addr":     func(r *lakehouse.ProxyLogRecord) any { return optString(r.ClientAddr) },
	"filtered":        func(r *lakehouse.ProxyLogRecord) any { return r.Filtered },
	"filter_reason":   func(r *lakehouse.ProxyLogRecord) any { return optString(r.FilterReason) },
	"error_code":      func(r *lakehouse.ProxyLogRecord) any { return optInt32(r.ErrorCode) },
	"sql_state":       func(r *lakehouse.ProxyLogRecord) any { return optString(r.SQLState) },
	"rows":            func(r *lakehouse.ProxyLogRecord) any { return optInt64(r.Rows) },
	"affected_rows":   func(r *lakehouse.ProxyLogRecord) any { return optInt64(r.AffectedRows) },
	"result_hash":     func(r *lakehouse.ProxyLogRecord) any { return optString(r.ResultHash) },
	"result_set_hash": func(r *lakehouse.ProxyLogRecord) any { return optString(r.ResultSetHash) },
	"started_at": func(r *lakehouse.ProxyLogRecord) any {
		if r.StartedAt == nil {
			return nil
		}
		return *r.StartedAt
	},
	"server_ms": func(r *lakehouse.ProxyLogRecord) any {
		if r.ServerMS == nil {
			return nil
		}
		return *r.ServerMS
	},
	"endpoint":    func(r *lakehouse.ProxyLogRecord) any { return optString(r.Endpoint) },
	"fingerprint": func(r *lakehouse.ProxyLogRecord) any { return optString(r.Fingerprint) },
	"dropped":     func(r *lakehouse.ProxyLogRecord) any { return r.Dropped },
	"drop_reason": func(r *lakehouse.ProxyLogRecord) any { return optString(r.DropReason) },
	"role":        func(r *lakehouse.ProxyLogRecord) any { return optString(r.Role) },
	"conn_id": func(r *lakehouse.ProxyLogRecord) any {
		if r.ConnID == 0 {
			return nil
		}
		return int64(r.ConnID)
	},
}

// proxyLogSetters write a column's value back into a record (the read path).
var proxyLogSetters = map[string]func(r *lakehouse.ProxyLogRecord, arr arrow.Array, i int){
	"ts":              func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.TS = timeAt(a, i) },
	"query_id":        func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.QueryID = stringAt(a, i) },
	"target":          func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.Target = stringAt(a, i) },
	"command":         func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.Command = stringAt(a, i) },
	"query_text":      func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.QueryText = stringAt(a, i) },
	"query_hash":      func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.QueryHash = stringAt(a, i) },
	"duration_ms":     func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.DurationMS = float64At(a, i) },
	"bytes_sent":      func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.BytesSent = int64At(a, i) },
	"bytes_recv":      func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.BytesRecv = int64At(a, i) },
	"success":         func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.Success = boolAt(a, i) },
	"error":           func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.Error = stringAt(a, i) },
	"client_addr":     func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.ClientAddr = stringAt(a, i) },
	"filtered":        func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.Filtered = boolAt(a, i) },
	"filter_reason":   func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.FilterReason = stringAt(a, i) },
	"error_code":      func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.ErrorCode = optIntAt(a, i) },
	"sql_state":       func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.SQLState = stringAt(a, i) },
	"rows":            func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.Rows = optInt64At(a, i) },
	"affected_rows":   func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.AffectedRows = optInt64At(a, i) },
	"result_hash":     func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.ResultHash = stringAt(a, i) },
	"result_set_hash": func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.ResultSetHash = stringAt(a, i) },
	"started_at": func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) {
		if !a.IsNull(i) {
			t := timeAt(a, i)
			r.StartedAt = &t
		}
	},
	"server_ms": func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) {
		if !a.IsNull(i) {
			v := float64At(a, i)
			r.ServerMS = &v
		}
	},
	"endpoint":    func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.Endpoint = stringAt(a, i) },
	"fingerprint": func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.Fingerprint = stringAt(a, i) },
	"dropped":     func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.Dropped = boolAt(a, i) },
	"drop_reason": func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.DropReason = stringAt(a, i) },
	"role":        func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.Role = stringAt(a, i) },
	"conn_id":     func(r *lakehouse.ProxyLogRecord, a arrow.Array, i int) { r.ConnID = uint64(int64At(a, i)) },
}

func optString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func optInt64(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func optInt32(p *int) any {
	if p == nil {
		return nil
	}
	return int32(*p)
}

// appendValue appends v (nil for null) to a builder of the matching type.
func appendValue(b array.Builder, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch fb := b.(type) {
	case *array.TimestampBuilder:
		fb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
	case *array.StringBuilder:
		fb.Append(v.(string))
	case *array.LargeStringBuilder:
		fb.Append(v.(string))
	case *array.Float64Builder:
		fb.Append(v.(float64))
	case *array.Int64Builder:
		fb.Append(v.(int64))
	case *array.Int32Builder:
		fb.Append(v.(int32))
	case *array.BooleanBuilder:
		fb.Append(v.(bool))
	default:
		panic(fmt.Sprintf("icelake: no appender for %T", b))
	}
}

func timeAt(a arrow.Array, i int) time.Time {
	if a.IsNull(i) {
		return time.Time{}
	}
	ts := a.(*array.Timestamp)
	unit := ts.DataType().(*arrow.TimestampType).Unit
	return ts.Value(i).ToTime(unit).UTC()
}

func stringAt(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return ""
	}
	switch s := a.(type) {
	case *array.String:
		return s.Value(i)
	case *array.LargeString:
		return s.Value(i)
	}
	return ""
}

func float64At(a arrow.Array, i int) float64 {
	if a.IsNull(i) {
		return 0
	}
	return a.(*array.Float64).Value(i)
}

func int64At(a arrow.Array, i int) int64 {
	if a.IsNull(i) {
		return 0
	}
	return a.(*array.Int64).Value(i)
}

func optInt64At(a arrow.Array, i int) *int64 {
	if a.IsNull(i) {
		return nil
	}
	v := a.(*array.Int64).Value(i)
	return &v
}

func optIntAt(a arrow.Array, i int) *int {
	if a.IsNull(i) {
		return nil
	}
	v := int(a.(*array.Int32).Value(i))
	return &v
}

func boolAt(a arrow.Array, i int) bool {
	if a.IsNull(i) {
		return false
	}
	return a.(*array.Boolean).Value(i)
}
