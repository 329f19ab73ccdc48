package proxylog

import (
	"math"
	"unsafe"

	"github.com/srctl/srctl/lakehouse"
)

// FromRecord fills r from a decoded record (an Iceberg row) exactly as Decode fills it from the
// record's JSON line: the same keys present (a key the JSON encoder omits when empty is absent),
// the same values and the same validation errors. Byte slices point into rec's strings: rec must
// stay alive, and unchanged, while r is used.
func FromRecord(rec *lakehouse.ProxyLogRecord, r *Row) error {
	*r = Row{Has: HasTS | HasQueryID | HasTarget | HasCommand | HasDuration | HasBytesSent | HasBytesRecv | HasSuccess}
	r.TS = rec.TS.UnixNano() // Decode accepts every time the JSON encoder writes
	r.QueryID = bytesOf(rec.QueryID)
	r.Command = bytesOf(rec.Command)
	switch rec.Target {
	case "primary":
		r.Target = Primary
	case "shadow":
		r.Target = Shadow
	}
	if !(rec.DurationMS >= 0 && rec.DurationMS <= MaxDurationMS) {
		return &DecodeError{KindBadValue, "duration_ms is not a duration in milliseconds from 0 to 1e9"}
	}
	r.DurationMS, r.BytesSent, r.BytesRecv, r.Success = rec.DurationMS, rec.BytesSent, rec.BytesRecv, rec.Success
	optional := func(dst *[]byte, s string, bit uint32) {
		if s != "" {
			*dst, r.Has = bytesOf(s), r.Has|bit
		}
	}
	optional(&r.QueryText, rec.QueryText, HasQueryText)
	optional(&r.QueryHash, rec.QueryHash, HasQueryHash)
	optional(&r.Error, rec.Error, HasError)
	optional(&r.ClientAddr, rec.ClientAddr, HasClientAddr)
	optional(&r.FilterReason, rec.FilterReason, HasFilterReason)
	optional(&r.ResultHash, rec.ResultHash, HasResultHash)
	optional(&r.ResultSetHash, rec.ResultSetHash, HasResultSetHash)
	optional(&r.DropReason, rec.DropReason, HasDropReason)
	if rec.Filtered {
		r.Filtered, r.Has = true, r.Has|HasFiltered
	}
	if rec.Dropped {
		r.Dropped, r.Has = true, r.Has|HasDropped
	}
	if rec.ErrorCode != nil {
		v, ok := asDecoded(int64(*rec.ErrorCode))
		if !ok {
			return &DecodeError{KindBadValue, "error_code is not an integer"}
		}
		r.ErrorCode, r.Has = v, r.Has|HasErrorCode
	}
	if rec.Rows != nil {
		v, ok := asDecoded(*rec.Rows)
		if !ok {
			return &DecodeError{KindBadValue, "rows is not an integer"}
		}
		r.Rows, r.Has = v, r.Has|HasRows
	}
	if rec.ServerMS != nil {
		if v := *rec.ServerMS; !(v >= 0 && v <= MaxDurationMS) {
			return &DecodeError{KindBadValue, "server_ms is not a duration in milliseconds from 0 to 1e9"}
		}
		r.ServerMS, r.Has = *rec.ServerMS, r.Has|HasServerMS
	}
	if r.Target == TargetUnknown {
		return &DecodeError{KindBadValue, "target is neither primary nor shadow"}
	}
	return nil
}

// asDecoded is what intField makes of an integer written in JSON: it reads numbers as float64
// (so integers beyond 2^53 are rounded) and refuses magnitudes over 2^62.
func asDecoded(n int64) (int64, bool) {
	v := float64(n)
	if math.Abs(v) > 1<<62 {
		return 0, false
	}
	return int64(v), true
}

func bytesOf(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
