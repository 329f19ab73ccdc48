package lakehouse

import (
	"time"

	"github.com/srctl/srctl/analyze/profile"
)

// ProfileSchemaVersion is written in every ProfileRecord srctl produces. Records written by the
// pre-srctl collector have no schema_version (0 when decoded).
const ProfileSchemaVersion = 1

// ProfileRecord is one StarRocks query as `srctl collect` writes it: the query_detail entry of its
// terminal state (FINISHED, FAILED, CANCELLED) plus its execution profile when one was available.
//
// The first block of fields are the keys of the existing collector, with the same JSON names and
// types, so tables defined over its output keep working. Everything after them is srctl's own and
// optional: a pointer or omitempty field is absent when StarRocks did not report it (query_detail
// uses -1 for "not set"; srctl drops the key rather than writing -1).
//
// The record key is (Cluster, QueryID): collection is at-least-once, so readers drop repeats by it.
type ProfileRecord struct {
	TS          time.Time `json:"ts"`                   // when srctl collected the record
	FEHost      string    `json:"fe_host"`              // FE that served the entry, host:port
	Cluster     string    `json:"cluster"`              // --cluster
	QueryID     string    `json:"sr_query_id"`          // StarRocks queryId (UUID text)
	State       string    `json:"state"`                // FINISHED, FAILED, CANCELLED
	Database    string    `json:"database"`             // default database of the session
	User        string    `json:"user"`                 // user that ran the query
	StartTime   time.Time `json:"start_time"`           // query start; also the Hive partition time
	EndTime     time.Time `json:"end_time"`             // query end (zero time when the FE did not say)
	DurationMS  float64   `json:"duration_ms"`          // FE latency in ms
	SQLText     string    `json:"sql_text"`             // raw SQL as the FE recorded it
	QueryHash   string    `json:"query_hash,omitempty"` // lowercase hex MD5 of SQLText bytes
	ProfileText string    `json:"profile_text"`         // raw profile text, "" when none was available

	// srctl's own keys.
	SchemaVersion int    `json:"schema_version,omitempty"`
	EventTime     int64  `json:"event_time,omitempty"`    // FE eventTime of the terminal entry
	ErrorMessage  string `json:"error_message,omitempty"` // FAILED queries
	// ProfileStatus says why ProfileText is what it is: "ok", "not_found" (404 until
	// --profile-retry-for ran out, or on the single attempt a query that did not finish gets:
	// never profiled, or an FE-only query), "evicted" (404 when older than the FE keeps profiles),
	// "error" (the FE kept failing), "too_large", "unauthorized", "fe_gone" (the FE left discovery
	// before the profile was fetched), "gap" (on a state GAP record:
	// a window of possibly lost queries, StartTime to EndTime).
	ProfileStatus string `json:"profile_status,omitempty"`
	ProfileBytes  int    `json:"profile_bytes,omitempty"`

	Fingerprint     string            `json:"fingerprint,omitempty"`      // literal-free normalised SQL
	FingerprintHash string            `json:"fingerprint_hash,omitempty"` // hex MD5 of Fingerprint
	Endpoint        string            `json:"endpoint,omitempty"`         // from sqlcommenter/Marginalia tags
	EndpointSource  string            `json:"endpoint_source,omitempty"`  // "sqlcommenter", "marginalia", "rule"
	Tags            map[string]string `json:"tags,omitempty"`             // all comment tags found

	Digest           string   `json:"digest,omitempty"` // StarRocks' own AST digest, when computed
	IsQuery          *bool    `json:"is_query,omitempty"`
	RemoteIP         string   `json:"remote_ip,omitempty"`
	ConnID           *int64   `json:"conn_id,omitempty"`
	ImpersonatedUser string   `json:"impersonated_user,omitempty"`
	Catalog          string   `json:"catalog,omitempty"`
	Warehouse        string   `json:"warehouse,omitempty"`
	ResourceGroup    string   `json:"resource_group,omitempty"`
	QuerySource      string   `json:"query_source,omitempty"` // EXTERNAL, INTERNAL, MV, TASK (4.x)
	Command          string   `json:"command,omitempty"`
	PreparedStmtID   string   `json:"prepared_stmt_id,omitempty"`
	PendingTimeMS    *int64   `json:"pending_time_ms,omitempty"`
	NetTimeMS        *int64   `json:"net_time_ms,omitempty"`
	NetComputeTimeMS *int64   `json:"net_compute_time_ms,omitempty"`
	ScanRows         *int64   `json:"scan_rows,omitempty"`
	ScanBytes        *int64   `json:"scan_bytes,omitempty"`
	ReturnRows       *int64   `json:"return_rows,omitempty"`
	CPUCostNS        *int64   `json:"cpu_cost_ns,omitempty"`
	MemCostBytes     *int64   `json:"mem_cost_bytes,omitempty"`
	SpillBytes       *int64   `json:"spill_bytes,omitempty"`
	CacheMissRatio   *float64 `json:"cache_miss_ratio,omitempty"` // 0-100
	QueryFEMemory    *int64   `json:"query_fe_memory_bytes,omitempty"`
	ExplainText      string   `json:"explain_text,omitempty"`

	// Metrics are the profile's headline metrics (absent without a profile).
	Metrics *ProfileMetrics `json:"metrics,omitempty"`
}

// Key identifies a query across repeated deliveries.
func (r *ProfileRecord) Key() string { return r.Cluster + "\x00" + r.QueryID }

// PartitionTime is the time the record is filed under: the query's start (falls back to the
// collection time for records whose start is unknown).
func (r *ProfileRecord) PartitionTime() time.Time {
	if r.StartTime.IsZero() {
		return r.TS
	}
	return r.StartTime
}

// ProxyLogRecord is one row of the shadow-proxy query log: one command sent to one target.
// The keys are those of the existing StarRocks shadow proxy (see FORMATS.md section 1); srctl's
// own proxy adds keys after them.
type ProxyLogRecord struct {
	TS           time.Time `json:"ts"`       // when the row was logged (completion, not start)
	QueryID      string    `json:"query_id"` // same on the primary and the shadow row
	Target       string    `json:"target"`   // "primary" or "shadow"
	Command      string    `json:"command"`  // COM_QUERY, COM_STMT_EXECUTE, ...
	QueryText    string    `json:"query_text,omitempty"`
	QueryHash    string    `json:"query_hash,omitempty"`
	DurationMS   float64   `json:"duration_ms"`
	BytesSent    int64     `json:"bytes_sent"`
	BytesRecv    int64     `json:"bytes_recv"`
	Success      bool      `json:"success"`
	Error        string    `json:"error,omitempty"`
	ClientAddr   string    `json:"client_addr,omitempty"`
	Filtered     bool      `json:"filtered,omitempty"`
	FilterReason string    `json:"filter_reason,omitempty"` // sql_operation, pattern, sampling

	// srctl shadow's own keys (absent in the existing proxy's rows).
	ErrorCode     *int   `json:"error_code,omitempty"`
	SQLState      string `json:"sql_state,omitempty"`
	Rows          *int64 `json:"rows,omitempty"`
	AffectedRows  *int64 `json:"affected_rows,omitempty"`
	ResultHash    string `json:"result_hash,omitempty"`
	ResultSetHash string `json:"result_set_hash,omitempty"`
	// StartedAt is when the first byte of the command was written to the target; ServerMS runs
	// from there to the last byte of the answer, measured the same way on both targets.
	StartedAt   *time.Time `json:"started_at,omitempty"`
	ServerMS    *float64   `json:"server_ms,omitempty"`
	Endpoint    string     `json:"endpoint,omitempty"`    // route tag, user rule or fingerprint class
	Fingerprint string     `json:"fingerprint,omitempty"` // fingerprint class id of the text
	// Dropped: the shadow copy was not executed (queue full, shadow unreachable...), DropReason
	// says why. Not a failure of the shadow and not a filter decision.
	Dropped    bool   `json:"dropped,omitempty"`
	DropReason string `json:"drop_reason,omitempty"`
	// Role is "source" for the target whose answer the client got, "mirror" for the other.
	Role   string `json:"role,omitempty"`
	ConnID uint64 `json:"conn_id,omitempty"` // the proxy's client connection number
}

// PartitionTime is the time the row is filed under.
func (r *ProxyLogRecord) PartitionTime() time.Time { return r.TS }

// ProfileMetrics are the headline metrics of a profile, stored on every collected record and
// compared across clusters. The profile parser defines them (a leaf package with no srctl
// imports), so that records carry exactly what the analysis computes.
type ProfileMetrics = profile.Headline

// OperatorTime is an operator's share of the summed OperatorTotalTime.
type OperatorTime = profile.OperatorTime
