package collector

import (
	"bytes"
	"fmt"
	"time"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/lakehouse"
)

// QueryDetail is one element of /api/query_detail. Numbers are pointers because the FE writes -1
// (or omits the key) for "not set"; normalise turns -1 into nil. Unknown keys are ignored, so new
// FE releases do not break decoding.
type QueryDetail struct {
	QueryID          string   `json:"queryId"`
	EventTime        int64    `json:"eventTime"`
	IsQuery          *bool    `json:"isQuery"`
	RemoteIP         string   `json:"remoteIP"`
	ConnID           *int64   `json:"connId"`
	StartTime        *int64   `json:"startTime"` // epoch ms
	EndTime          *int64   `json:"endTime"`   // epoch ms
	Latency          *int64   `json:"latency"`   // ms
	PendingTime      *int64   `json:"pendingTime"`
	NetTime          *int64   `json:"netTime"`
	NetComputeTime   *int64   `json:"netComputeTime"`
	State            string   `json:"state"`
	Database         string   `json:"database"`
	SQL              string   `json:"sql"`
	User             string   `json:"user"`
	ImpersonatedUser string   `json:"impersonatedUser"`
	ErrorMessage     string   `json:"errorMessage"`
	Explain          string   `json:"explain"`
	ResourceGroup    string   `json:"resourceGroupName"`
	ScanRows         *int64   `json:"scanRows"`
	ScanBytes        *int64   `json:"scanBytes"`
	ReturnRows       *int64   `json:"returnRows"`
	CPUCostNs        *int64   `json:"cpuCostNs"`
	MemCostBytes     *int64   `json:"memCostBytes"`
	SpillBytes       *int64   `json:"spillBytes"`
	CacheMissRatio   *float64 `json:"cacheMissRatio"`
	Warehouse        string   `json:"warehouse"`
	Digest           string   `json:"digest"`
	Catalog          string   `json:"catalog"`
	Command          string   `json:"command"`
	PreparedStmtID   string   `json:"preparedStmtId"`
	QueryFeMemory    *int64   `json:"queryFeMemory"`
	QuerySource      string   `json:"querySource"`
}

// Terminal reports whether the entry is a query's last one (anything but RUNNING).
func (d *QueryDetail) Terminal() bool { return d.State != "RUNNING" && d.State != "" }

func unsetToNil(p **int64) {
	if *p != nil && **p < 0 {
		*p = nil
	}
}

func (d *QueryDetail) normalise() {
	for _, p := range []**int64{&d.ConnID, &d.StartTime, &d.EndTime, &d.Latency, &d.PendingTime, &d.NetTime,
		&d.NetComputeTime, &d.ScanRows, &d.ScanBytes, &d.ReturnRows, &d.CPUCostNs, &d.MemCostBytes,
		&d.SpillBytes, &d.QueryFeMemory} {
		unsetToNil(p)
	}
	if d.CacheMissRatio != nil && *d.CacheMissRatio < 0 {
		d.CacheMissRatio = nil
	}
}

// mergeRunning fills what the terminal entry lacks from the query's RUNNING entry.
func (d *QueryDetail) mergeRunning(r *QueryDetail) {
	if d.SQL == "" {
		d.SQL = r.SQL
	}
	if d.StartTime == nil {
		d.StartTime = r.StartTime
	}
	if d.Database == "" {
		d.Database = r.Database
	}
	if d.User == "" {
		d.User = r.User
	}
}

// decodeQueryDetails accepts the v1 body (a bare array) and the v2 body
// ({"code":"0","message":"OK","result":[...]}; an early v2 returned a bare array too). Entries
// without a query id are dropped (nothing to key them by); the rest are normalised. The FE client
// keeps a detailDecoder of its own (its intern table and slabs carry over between polls).
func decodeQueryDetails(body []byte) ([]QueryDetail, error) {
	var dd detailDecoder
	return dd.decodeBody(body)
}

func (dd *detailDecoder) decodeBody(body []byte) ([]QueryDetail, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, fmt.Errorf("empty body")
	}
	return dd.decode(body)
}

func msTime(p *int64) time.Time {
	if p == nil {
		return time.Time{}
	}
	return time.UnixMilli(*p).UTC()
}

// buildRecord turns a terminal entry (and its profile) into the record srctl writes.
func buildRecord(d *QueryDetail, cluster, feHost string, rules *fingerprint.Rules, now time.Time) *lakehouse.ProfileRecord {
	r := &lakehouse.ProfileRecord{
		TS: now.UTC(), FEHost: feHost, Cluster: cluster, QueryID: d.QueryID, State: d.State,
		Database: d.Database, User: d.User, StartTime: msTime(d.StartTime), EndTime: msTime(d.EndTime),
		SQLText: d.SQL, QueryHash: fingerprint.QueryHash(d.SQL),

		SchemaVersion: lakehouse.ProfileSchemaVersion, EventTime: d.EventTime, ErrorMessage: d.ErrorMessage,
		Digest: d.Digest, IsQuery: d.IsQuery, RemoteIP: d.RemoteIP, ConnID: d.ConnID,
		ImpersonatedUser: d.ImpersonatedUser, Catalog: d.Catalog, Warehouse: d.Warehouse,
		ResourceGroup: d.ResourceGroup, QuerySource: d.QuerySource, Command: d.Command,
		PreparedStmtID: d.PreparedStmtID, PendingTimeMS: d.PendingTime, NetTimeMS: d.NetTime,
		NetComputeTimeMS: d.NetComputeTime, ScanRows: d.ScanRows, ScanBytes: d.ScanBytes,
		ReturnRows: d.ReturnRows, CPUCostNS: d.CPUCostNs, MemCostBytes: d.MemCostBytes,
		SpillBytes: d.SpillBytes, CacheMissRatio: d.CacheMissRatio, QueryFEMemory: d.QueryFeMemory,
		ExplainText: d.Explain,
	}
	if d.Latency != nil {
		r.DurationMS = float64(*d.Latency)
	} else if !r.EndTime.IsZero() && !r.StartTime.IsZero() {
		r.DurationMS = float64(r.EndTime.Sub(r.StartTime).Microseconds()) / 1000
	}
	if d.SQL != "" {
		// The endpoint as srctl diff names it (tags, then rules); a record keeps no endpoint
		// where diff would fall back to the fingerprint class (that is in Fingerprint already).
		cl := rules.Classify(d.SQL)
		r.Fingerprint, r.FingerprintHash, r.Tags = cl.Fingerprint, fingerprint.Hash(cl.Fingerprint), cl.Tags
		if cl.Source != fingerprint.SourceFingerprint {
			r.Endpoint, r.EndpointSource = cl.Endpoint, cl.Source
		}
	}
	return r
}

// gapRecord marks a window whose queries may be lost (see Collector.checkGap): state GAP, the
// window as start and end time, and the reason in error_message. Its id cannot be a real query
// id, so joins by query id or hash never match it.
func gapRecord(cluster, feHost string, from, to, now time.Time) *lakehouse.ProfileRecord {
	return &lakehouse.ProfileRecord{
		TS: now.UTC(), FEHost: feHost, Cluster: cluster, State: "GAP",
		QueryID:   fmt.Sprintf("gap:%s:%d", feHost, from.UnixNano()),
		StartTime: from.UTC(), EndTime: to.UTC(), DurationMS: float64(to.Sub(from).Milliseconds()),
		SchemaVersion: lakehouse.ProfileSchemaVersion, EventTime: from.UnixNano(), ProfileStatus: "gap",
		ErrorMessage: "possible gap: the FE no longer held query details of this window when it was polled; queries that ended in it may be missing",
	}
}
