package lakehouse

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/srctl/srctl/internal/jsonstr"
)

// AppendJSON appends r as one JSON object, byte for byte what a json.Encoder with HTML escaping
// off writes for it (same keys, order, omitempty, number and time formats), without the
// encoder's newline; it fails where encoding/json fails (a NaN or infinite float, a time that
// RFC 3339 cannot write), appending nothing then. The collector journals every record this way:
// through reflection, the record's shell cost as much as escaping its tens of KB of profile text.
// TestAppendJSONMatchesEncodingJSON fills every field by reflection, so a field added to the
// struct and not here fails it.
func (r *ProfileRecord) AppendJSON(b []byte) ([]byte, error) {
	n0 := len(b)
	w := recordWriter{b: b}
	w.timeOf(`{"ts":`, r.TS)
	w.str(`,"fe_host":`, r.FEHost)
	w.str(`,"cluster":`, r.Cluster)
	w.str(`,"sr_query_id":`, r.QueryID)
	w.str(`,"state":`, r.State)
	w.str(`,"database":`, r.Database)
	w.str(`,"user":`, r.User)
	w.timeOf(`,"start_time":`, r.StartTime)
	w.timeOf(`,"end_time":`, r.EndTime)
	w.float(`,"duration_ms":`, r.DurationMS)
	w.str(`,"sql_text":`, r.SQLText)
	w.optStr(`,"query_hash":`, r.QueryHash)
	w.str(`,"profile_text":`, r.ProfileText)
	w.optInt(`,"schema_version":`, int64(r.SchemaVersion))
	w.optInt(`,"event_time":`, r.EventTime)
	w.optStr(`,"error_message":`, r.ErrorMessage)
	w.optStr(`,"profile_status":`, r.ProfileStatus)
	w.optInt(`,"profile_bytes":`, int64(r.ProfileBytes))
	w.optStr(`,"fingerprint":`, r.Fingerprint)
	w.optStr(`,"fingerprint_hash":`, r.FingerprintHash)
	w.optStr(`,"endpoint":`, r.Endpoint)
	w.optStr(`,"endpoint_source":`, r.EndpointSource)
	if len(r.Tags) > 0 {
		w.raw(`,"tags":{`)
		var few [8]string // records carry a few tags: no allocation for their keys
		keys := few[:0]
		for k := range r.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys) // encoding/json sorts map keys
		for i, k := range keys {
			if i > 0 {
				w.raw(",")
			}
			w.b = jsonstr.AppendString(w.b, k)
			w.str(":", r.Tags[k])
		}
		w.raw("}")
	}
	w.optStr(`,"digest":`, r.Digest)
	if r.IsQuery != nil {
		w.raw(`,"is_query":`)
		w.b = strconv.AppendBool(w.b, *r.IsQuery)
	}
	w.optStr(`,"remote_ip":`, r.RemoteIP)
	w.ptrInt(`,"conn_id":`, r.ConnID)
	w.optStr(`,"impersonated_user":`, r.ImpersonatedUser)
	w.optStr(`,"catalog":`, r.Catalog)
	w.optStr(`,"warehouse":`, r.Warehouse)
	w.optStr(`,"resource_group":`, r.ResourceGroup)
	w.optStr(`,"query_source":`, r.QuerySource)
	w.optStr(`,"command":`, r.Command)
	w.optStr(`,"prepared_stmt_id":`, r.PreparedStmtID)
	w.ptrInt(`,"pending_time_ms":`, r.PendingTimeMS)
	w.ptrInt(`,"net_time_ms":`, r.NetTimeMS)
	w.ptrInt(`,"net_compute_time_ms":`, r.NetComputeTimeMS)
	w.ptrInt(`,"scan_rows":`, r.ScanRows)
	w.ptrInt(`,"scan_bytes":`, r.ScanBytes)
	w.ptrInt(`,"return_rows":`, r.ReturnRows)
	w.ptrInt(`,"cpu_cost_ns":`, r.CPUCostNS)
	w.ptrInt(`,"mem_cost_bytes":`, r.MemCostBytes)
	w.ptrInt(`,"spill_bytes":`, r.SpillBytes)
	if r.CacheMissRatio != nil {
		w.float(`,"cache_miss_ratio":`, *r.CacheMissRatio)
	}
	w.ptrInt(`,"query_fe_memory_bytes":`, r.QueryFEMemory)
	w.optStr(`,"explain_text":`, r.ExplainText)
	if m := r.Metrics; m != nil {
		w.raw(`,"metrics":{`)
		if m.State != "" {
			w.str(`"state":`, m.State)
			w.raw(",")
		}
		w.int(`"total_ns":`, m.TotalNS)
		w.int(`,"planner_ns":`, m.PlannerNS)
		w.int(`,"cpu_ns":`, m.CPUNS)
		w.int(`,"execution_wall_ns":`, m.ExecutionWallNS)
		w.int(`,"peak_memory_per_node_bytes":`, m.PeakMemoryPerNodeBytes)
		w.int(`,"sum_memory_bytes":`, m.SumMemoryBytes)
		w.int(`,"allocated_memory_bytes":`, m.AllocatedMemoryBytes)
		w.int(`,"scan_ns":`, m.ScanNS)
		w.int(`,"operator_ns":`, m.OperatorNS)
		w.int(`,"network_ns":`, m.NetworkNS)
		w.int(`,"peak_schedule_ns":`, m.PeakScheduleNS)
		w.int(`,"result_deliver_ns":`, m.ResultDeliverNS)
		w.int(`,"spill_bytes":`, m.SpillBytes)
		w.int(`,"scan_operators":`, int64(m.ScanOperators))
		w.int(`,"scan_bytes":`, m.ScanBytes)
		w.int(`,"scan_raw_rows":`, m.ScanRawRows)
		w.int(`,"scan_rows":`, m.ScanRows)
		w.int(`,"scan_local_bytes":`, m.ScanLocalBytes)
		w.int(`,"scan_remote_bytes":`, m.ScanRemoteBytes)
		w.int(`,"datacache_read_bytes":`, m.DataCacheReadBytes)
		w.int(`,"datacache_write_bytes":`, m.DataCacheWriteBytes)
		w.int(`,"operator_total_ns":`, m.OperatorTotalNS)
		if len(m.TopOperators) > 0 {
			w.raw(`,"top_operators":[`)
			for i := range m.TopOperators {
				op := &m.TopOperators[i]
				if i > 0 {
					w.raw(",")
				}
				w.str(`{"name":`, op.Name)
				w.int(`,"plan_node_id":`, int64(op.PlanNodeID))
				w.int(`,"ns":`, op.NS)
				w.float(`,"share":`, op.Share)
				w.raw("}")
			}
			w.raw("]")
		}
		w.raw("}")
	}
	w.raw("}")
	if w.err != nil {
		return b[:n0], fmt.Errorf("encoding the record of query %q: %w", r.QueryID, w.err)
	}
	return w.b, nil
}

// recordWriter appends keys and values; the first error sticks (later appends still run, and
// AppendJSON drops what they wrote).
type recordWriter struct {
	b   []byte
	err error
}

func (w *recordWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *recordWriter) str(key, v string) {
	w.b = append(w.b, key...)
	w.b = jsonstr.AppendString(w.b, v)
}

func (w *recordWriter) optStr(key, v string) {
	if v != "" {
		w.str(key, v)
	}
}

func (w *recordWriter) int(key string, v int64) {
	w.b = append(w.b, key...)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *recordWriter) optInt(key string, v int64) {
	if v != 0 {
		w.int(key, v)
	}
}

func (w *recordWriter) ptrInt(key string, v *int64) {
	if v != nil {
		w.int(key, *v)
	}
}

func (w *recordWriter) float(key string, v float64) {
	w.b = append(w.b, key...)
	var ok bool
	if w.b, ok = jsonstr.AppendFloat(w.b, v); !ok && w.err == nil {
		w.err = fmt.Errorf("%s is %v, which JSON cannot hold", key[2:len(key)-2], v)
	}
}

func (w *recordWriter) timeOf(key string, t time.Time) {
	w.b = append(w.b, key...)
	var err error
	if w.b, err = jsonstr.AppendTime(w.b, t); err != nil && w.err == nil {
		w.err = fmt.Errorf("%s: %w", key[2:len(key)-2], err)
	}
}
