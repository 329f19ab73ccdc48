package analyze

import (
	"hash/maphash"
	"strings"

	"github.com/srctl/srctl/lakehouse/proxylog"
)

// half is one log row reduced to what pairing and statistics need. Rows are decoded in parallel
// and reduced by the parser goroutines; only halves cross to the pairing goroutine.
type half struct {
	key    uint64 // hash of query_id
	ts     int64
	bytes  int64 // bytes_recv
	client uint64
	result uint64 // hash of result_hash, 0 when absent
	group  uint32
	dur    float32
	target proxylog.Target
	flags  uint8
	filter string // filter_reason of a filtered row (interned constant or a copy)
	qid    string // copied only for rows that can become examples (failures, drill-down)
	qidBuf [40]byte
	qidLen uint8
	hash   [16]byte // query_hash bytes, for the profile join of the drill-down
	err    string   // error of a failed row
	text   string   // the SQL, drill-down group only
}

const (
	flagSuccess uint8 = 1 << iota
	flagFiltered
	flagHasHash
)

func (h *half) ok() bool       { return h.flags&flagSuccess != 0 }
func (h *half) filtered() bool { return h.flags&flagFiltered != 0 }

// queryID returns the row's query_id (possibly truncated to 40 bytes, enough for a UUID).
func (h *half) queryID() string {
	if h.qid != "" {
		return h.qid
	}
	return string(h.qidBuf[:h.qidLen])
}

var keySeed = maphash.MakeSeed()

func hashBytes(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return maphash.Bytes(keySeed, b)
}

// filterReasons interns the known filter reasons so that rows carry no copies.
var filterReasons = []string{"sql_operation", "pattern", "sampling"}

func internReason(b []byte) string {
	for _, r := range filterReasons {
		if string(b) == r {
			return r
		}
	}
	if len(b) == 0 {
		return "unknown"
	}
	return strings.Clone(string(b))
}

// reduce turns a decoded row into a half.
func reduce(r *proxylog.Row, group uint32, keepText bool) half {
	h := half{
		key: hashBytes(r.QueryID), ts: r.TS, bytes: r.BytesRecv, client: hashBytes(r.ClientAddr),
		result: hashBytes(r.ResultHash), group: group, dur: float32(r.DurationMS), target: r.Target,
	}
	h.qidLen = uint8(copy(h.qidBuf[:], r.QueryID))
	if r.Success || r.Has&proxylog.HasSuccess == 0 && r.Has&proxylog.HasError == 0 {
		h.flags |= flagSuccess // rows without success or error keys count as successes
	}
	if r.Success && r.Has&proxylog.HasErrorCode != 0 && r.ErrorCode != 0 {
		h.flags &^= flagSuccess // srctl's own proxy logs SQL errors with their code
	}
	if !h.ok() {
		msg := r.Error
		if r.ErrorEscaped {
			msg = proxylog.Unescape(msg)
		}
		h.err = string(msg)
		if h.err == "" {
			h.err = "(no error text)"
		}
	}
	if r.Filtered {
		h.flags |= flagFiltered
		h.filter = internReason(r.FilterReason)
	}
	if decodeHex16(r.QueryHash, &h.hash) {
		h.flags |= flagHasHash
	}
	if keepText {
		h.qid = string(r.QueryID)
		h.text = text(r)
		if !r.TextEscaped {
			h.text = strings.Clone(h.text)
		}
	}
	return h
}

func decodeHex16(b []byte, out *[16]byte) bool {
	if len(b) != 32 {
		return false
	}
	for i := range 16 {
		hi, ok1 := unhex(b[2*i])
		lo, ok2 := unhex(b[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		out[i] = hi<<4 | lo
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// doneGeneration bounds the memory of completed query ids kept to catch duplicates: two
// generations of this many ids, so a duplicate is caught when fewer than ~1M pairs complete
// between the two copies (the producer's duplicates come from retried writes, seconds apart).
const doneGeneration = 1 << 20

// pairer matches primary and shadow halves by query id. It is used by one goroutine.
type pairer struct {
	window        proxylog.Window
	pending       map[uint64]half
	done, oldDone map[uint64]struct{}
	shadowClients map[uint64]struct{}
	onPair        func(p, s *half)
	counts        *Summary
}

func newPairer(w proxylog.Window, counts *Summary, onPair func(p, s *half)) *pairer {
	return &pairer{window: w, pending: map[uint64]half{}, done: map[uint64]struct{}{}, oldDone: map[uint64]struct{}{},
		shadowClients: map[uint64]struct{}{}, onPair: onPair, counts: counts}
}

func (pr *pairer) inWindow(ts int64) bool {
	if !pr.window.Since.IsZero() && ts < pr.window.Since.UnixNano() {
		return false
	}
	if !pr.window.Until.IsZero() && ts > pr.window.Until.UnixNano() {
		return false
	}
	return true
}

func (pr *pairer) add(h *half) {
	if h.target == proxylog.Shadow && h.client != 0 {
		pr.shadowClients[h.client] = struct{}{}
	}
	if _, dup := pr.done[h.key]; dup {
		pr.counts.Duplicates++
		return
	}
	if _, dup := pr.oldDone[h.key]; dup {
		pr.counts.Duplicates++
		return
	}
	other, ok := pr.pending[h.key]
	if !ok {
		pr.pending[h.key] = *h
		return
	}
	if other.target == h.target {
		pr.counts.Duplicates++
		return
	}
	delete(pr.pending, h.key)
	if len(pr.done) >= doneGeneration {
		pr.oldDone, pr.done = pr.done, make(map[uint64]struct{}, doneGeneration)
	}
	pr.done[h.key] = struct{}{}
	p, s := &other, h
	if h.target == proxylog.Primary {
		p, s = h, &other
	}
	if !pr.inWindow(p.ts) {
		pr.counts.OutsideWindow += 2
		return
	}
	pr.counts.Pairs++
	pr.onPair(p, s)
}

// finish accounts for the rows left without a partner.
func (pr *pairer) finish(onUnpaired func(h *half, primaryOnlyConn bool)) {
	conns := map[uint64]struct{}{}
	for _, h := range pr.pending {
		if !pr.inWindow(h.ts) {
			pr.counts.OutsideWindow++
			continue
		}
		if h.target == proxylog.Shadow {
			pr.counts.UnpairedShadow++
			onUnpaired(&h, false)
			continue
		}
		if _, seen := pr.shadowClients[h.client]; !seen && h.client != 0 {
			pr.counts.PrimaryOnlyConnectionRows++
			conns[h.client] = struct{}{}
			onUnpaired(&h, true)
			continue
		}
		pr.counts.ShadowMissing++
		onUnpaired(&h, false)
	}
	pr.counts.PrimaryOnlyConnections = int64(len(conns))
}
