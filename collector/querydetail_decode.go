package collector

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/srctl/srctl/internal/jsonscan"
)

// detailDecoder decodes /api/query_detail bodies without reflection. It accepts and refuses
// exactly what encoding/json does for []QueryDetail (FuzzDecodeQueryDetails compares the two)
// and allocates far less: at 2,000 queries/s per FE every poll carries thousands of entries, and
// encoding/json spent an allocation on each of the fourteen numeric pointer fields of each.
//
//   - numbers, booleans and ratios live in shared slabs: an entry's pointers point into a block
//     that a few dozen entries share (a block stays alive while any of them does: kilobytes);
//   - the low-cardinality strings (state, user, database, catalog, warehouse...) are interned in
//     a bounded table, so each is allocated once rather than once per entry;
//   - the rest (query id, SQL, error, plan, digest) get a string each.
//
// One decoder serves one FE client; its lock is taken once per body.
type detailDecoder struct {
	mu     sync.Mutex
	ints   []int64
	floats []float64
	bools  []bool
	intern map[string]string
	r      jsonscan.Reader
	// lastLen is how many entries the previous body held: the next array starts at that size
	// (polls at a steady rate return similar counts) instead of doubling up to it from 64.
	lastLen int
}

// maxPresizedDetails bounds the entries an array is given room for before it is read: a body
// once large does not make every later one allocate as much.
const maxPresizedDetails = 1 << 14

const (
	slabInts     = 512
	slabFloats   = 64
	slabBools    = 256
	internMax    = 4096 // values kept; the table starts over when full (a hostile FE cannot grow it)
	internMaxLen = 128  // longer values are not worth a lookup
)

// detailField numbers QueryDetail's fields for the decoder's switch.
type detailField int

const (
	fUnknown detailField = iota
	fQueryID
	fEventTime
	fIsQuery
	fRemoteIP
	fConnID
	fStartTime
	fEndTime
	fLatency
	fPendingTime
	fNetTime
	fNetComputeTime
	fState
	fDatabase
	fSQL
	fUser
	fImpersonatedUser
	fErrorMessage
	fExplain
	fResourceGroup
	fScanRows
	fScanBytes
	fReturnRows
	fCPUCostNs
	fMemCostBytes
	fSpillBytes
	fCacheMissRatio
	fWarehouse
	fDigest
	fCatalog
	fCommand
	fPreparedStmtID
	fQueryFeMemory
	fQuerySource
	fieldCount
)

// detailKeys are the JSON names, as QueryDetail's tags give them (TestDetailKeysAreTheTags).
var detailKeys = [fieldCount]string{
	fQueryID: "queryId", fEventTime: "eventTime", fIsQuery: "isQuery", fRemoteIP: "remoteIP",
	fConnID: "connId", fStartTime: "startTime", fEndTime: "endTime", fLatency: "latency",
	fPendingTime: "pendingTime", fNetTime: "netTime", fNetComputeTime: "netComputeTime",
	fState: "state", fDatabase: "database", fSQL: "sql", fUser: "user",
	fImpersonatedUser: "impersonatedUser", fErrorMessage: "errorMessage", fExplain: "explain",
	fResourceGroup: "resourceGroupName", fScanRows: "scanRows", fScanBytes: "scanBytes",
	fReturnRows: "returnRows", fCPUCostNs: "cpuCostNs", fMemCostBytes: "memCostBytes",
	fSpillBytes: "spillBytes", fCacheMissRatio: "cacheMissRatio", fWarehouse: "warehouse",
	fDigest: "digest", fCatalog: "catalog", fCommand: "command", fPreparedStmtID: "preparedStmtId",
	fQueryFeMemory: "queryFeMemory", fQuerySource: "querySource",
}

func lookupDetailField(key []byte) detailField {
	switch string(key) { // compiled to a comparison without allocating
	case "queryId":
		return fQueryID
	case "eventTime":
		return fEventTime
	case "isQuery":
		return fIsQuery
	case "remoteIP":
		return fRemoteIP
	case "connId":
		return fConnID
	case "startTime":
		return fStartTime
	case "endTime":
		return fEndTime
	case "latency":
		return fLatency
	case "pendingTime":
		return fPendingTime
	case "netTime":
		return fNetTime
	case "netComputeTime":
		return fNetComputeTime
	case "state":
		return fState
	case "database":
		return fDatabase
	case "sql":
		return fSQL
	case "user":
		return fUser
	case "impersonatedUser":
		return fImpersonatedUser
	case "errorMessage":
		return fErrorMessage
	case "explain":
		return fExplain
	case "resourceGroupName":
		return fResourceGroup
	case "scanRows":
		return fScanRows
	case "scanBytes":
		return fScanBytes
	case "returnRows":
		return fReturnRows
	case "cpuCostNs":
		return fCPUCostNs
	case "memCostBytes":
		return fMemCostBytes
	case "spillBytes":
		return fSpillBytes
	case "cacheMissRatio":
		return fCacheMissRatio
	case "warehouse":
		return fWarehouse
	case "digest":
		return fDigest
	case "catalog":
		return fCatalog
	case "command":
		return fCommand
	case "preparedStmtId":
		return fPreparedStmtID
	case "queryFeMemory":
		return fQueryFeMemory
	case "querySource":
		return fQuerySource
	}
	// encoding/json's fallback: a key that matches no name exactly matches one that is equal
	// under Unicode case folding.
	for f := fQueryID; f < fieldCount; f++ {
		if jsonscan.KeyIs(key, detailKeys[f]) {
			return f
		}
	}
	return fUnknown
}

// decode decodes a v1 body (a bare array) or a v2 body ({"code":"0","message":"OK","result":[...]}).
func (dd *detailDecoder) decode(body []byte) ([]QueryDetail, error) {
	dd.mu.Lock()
	defer dd.mu.Unlock()
	r := &dd.r
	r.Reset(body)
	defer r.Reset(nil) // keep no reference to the body
	var out []QueryDetail
	var err error
	switch r.Kind() {
	case '[':
		if out, err = dd.array(r); err != nil {
			return nil, fmt.Errorf("decoding query_detail array: %w", err)
		}
	case '{':
		var code []byte
		var message string
		if out, code, message, err = dd.wrapper(r); err != nil {
			return nil, fmt.Errorf("decoding query_detail v2 body: %w", err)
		}
		if c := string(bytes.Trim(code, `"`)); c != "0" && c != "" { // the v2 code is "0" or 0
			return nil, fmt.Errorf("FE answered code %s: %s", c, message)
		}
	default:
		return nil, fmt.Errorf("body is not JSON (starts with %q)", body[:min(len(body), 16)])
	}
	if err := r.End(); err != nil {
		return nil, fmt.Errorf("decoding query_detail body: %w", err)
	}
	return out, nil
}

func (dd *detailDecoder) wrapper(r *jsonscan.Reader) (out []QueryDetail, code []byte, message string, err error) {
	r.BeginObject()
	for first := true; ; first = false {
		key, ok := r.NextKey(first)
		if !ok {
			break
		}
		switch {
		case jsonscan.KeyIs(key, "code"):
			raw, err := r.Raw()
			if err != nil {
				return nil, nil, "", err
			}
			code = raw // the body's own bytes: used before decode returns
		case jsonscan.KeyIs(key, "message"):
			if r.Null() {
				continue
			}
			if message, err = r.String("message"); err != nil {
				return nil, nil, "", err
			}
		case jsonscan.KeyIs(key, "result"):
			if r.Null() {
				out = nil
				continue
			}
			if r.Kind() != '[' {
				return nil, nil, "", r.WrongType("result", "array")
			}
			if out, err = dd.array(r); err != nil {
				return nil, nil, "", err
			}
		default:
			if err := r.Skip(); err != nil {
				return nil, nil, "", err
			}
		}
	}
	return out, code, message, r.Err()
}

// array decodes the entries; like encoding/json, a null element is a zero entry (dropped later
// for its empty query id). Entries without a query id are dropped here; the rest normalised.
func (dd *detailDecoder) array(r *jsonscan.Reader) ([]QueryDetail, error) {
	r.BeginArray()
	out := make([]QueryDetail, 0, min(max(64, dd.lastLen+dd.lastLen/8), maxPresizedDetails))
	defer func() { dd.lastLen = len(out) }()
	for first := true; r.NextElem(first); first = false {
		if r.Null() {
			continue
		}
		if r.Kind() != '{' {
			return nil, r.WrongType("a query detail", "object")
		}
		out = append(out, QueryDetail{})
		d := &out[len(out)-1]
		if err := dd.entry(r, d); err != nil {
			return nil, err
		}
		if d.QueryID == "" {
			out = out[:len(out)-1] // nothing to key it by; counted by the caller as malformed
			continue
		}
		d.normalise()
	}
	return out, r.Err()
}

func (dd *detailDecoder) entry(r *jsonscan.Reader, d *QueryDetail) error {
	r.BeginObject()
	for first := true; ; first = false {
		key, ok := r.NextKey(first)
		if !ok {
			return r.Err()
		}
		f := lookupDetailField(key)
		if f == fUnknown {
			if err := r.Skip(); err != nil {
				return err
			}
			continue
		}
		if err := dd.field(r, d, f); err != nil {
			return err
		}
	}
}

func (dd *detailDecoder) field(r *jsonscan.Reader, d *QueryDetail, f detailField) error {
	name := detailKeys[f]
	switch f {
	case fQueryID, fSQL, fErrorMessage, fExplain, fDigest, fPreparedStmtID:
		return dd.str(r, name, d.stringField(f), false)
	case fRemoteIP, fState, fDatabase, fUser, fImpersonatedUser, fResourceGroup, fWarehouse, fCatalog,
		fCommand, fQuerySource:
		return dd.str(r, name, d.stringField(f), true)
	case fEventTime:
		if r.Null() {
			return nil // encoding/json leaves a non-pointer field as it was
		}
		v, err := r.Int64(name)
		d.EventTime = v
		return err
	case fIsQuery:
		if r.Null() {
			d.IsQuery = nil
			return nil
		}
		v, err := r.Bool(name)
		if err != nil {
			return err
		}
		if len(dd.bools) == cap(dd.bools) {
			dd.bools = make([]bool, 0, slabBools)
		}
		dd.bools = append(dd.bools, v)
		d.IsQuery = &dd.bools[len(dd.bools)-1]
		return nil
	case fCacheMissRatio:
		if r.Null() {
			d.CacheMissRatio = nil
			return nil
		}
		v, err := r.Float64(name)
		if err != nil {
			return err
		}
		if len(dd.floats) == cap(dd.floats) {
			dd.floats = make([]float64, 0, slabFloats)
		}
		dd.floats = append(dd.floats, v)
		d.CacheMissRatio = &dd.floats[len(dd.floats)-1]
		return nil
	default:
		p := d.intField(f)
		if r.Null() {
			*p = nil
			return nil
		}
		v, err := r.Int64(name)
		if err != nil {
			return err
		}
		if len(dd.ints) == cap(dd.ints) {
			dd.ints = make([]int64, 0, slabInts)
		}
		dd.ints = append(dd.ints, v)
		*p = &dd.ints[len(dd.ints)-1]
		return nil
	}
}

// str decodes a string field; null leaves it as it was (encoding/json's rule).
func (dd *detailDecoder) str(r *jsonscan.Reader, name string, dst *string, intern bool) error {
	if r.Null() {
		return nil
	}
	b, err := r.StringBytes(name)
	if err != nil {
		return err
	}
	if !intern || len(b) > internMaxLen {
		*dst = string(b)
		return nil
	}
	if s, ok := dd.intern[string(b)]; ok { // a lookup by bytes does not allocate
		*dst = s
		return nil
	}
	if dd.intern == nil || len(dd.intern) >= internMax {
		dd.intern = make(map[string]string, 64)
	}
	s := string(b)
	dd.intern[s] = s
	*dst = s
	return nil
}

func (d *QueryDetail) stringField(f detailField) *string {
	switch f {
	case fQueryID:
		return &d.QueryID
	case fRemoteIP:
		return &d.RemoteIP
	case fState:
		return &d.State
	case fDatabase:
		return &d.Database
	case fSQL:
		return &d.SQL
	case fUser:
		return &d.User
	case fImpersonatedUser:
		return &d.ImpersonatedUser
	case fErrorMessage:
		return &d.ErrorMessage
	case fExplain:
		return &d.Explain
	case fResourceGroup:
		return &d.ResourceGroup
	case fWarehouse:
		return &d.Warehouse
	case fDigest:
		return &d.Digest
	case fCatalog:
		return &d.Catalog
	case fCommand:
		return &d.Command
	case fPreparedStmtID:
		return &d.PreparedStmtID
	case fQuerySource:
		return &d.QuerySource
	}
	panic(fmt.Sprintf("collector: field %d is not a string", f))
}

func (d *QueryDetail) intField(f detailField) **int64 {
	switch f {
	case fConnID:
		return &d.ConnID
	case fStartTime:
		return &d.StartTime
	case fEndTime:
		return &d.EndTime
	case fLatency:
		return &d.Latency
	case fPendingTime:
		return &d.PendingTime
	case fNetTime:
		return &d.NetTime
	case fNetComputeTime:
		return &d.NetComputeTime
	case fScanRows:
		return &d.ScanRows
	case fScanBytes:
		return &d.ScanBytes
	case fReturnRows:
		return &d.ReturnRows
	case fCPUCostNs:
		return &d.CPUCostNs
	case fMemCostBytes:
		return &d.MemCostBytes
	case fSpillBytes:
		return &d.SpillBytes
	case fQueryFeMemory:
		return &d.QueryFeMemory
	}
	panic(fmt.Sprintf("collector: field %d is not an integer", f))
}
