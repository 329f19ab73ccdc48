package analyze

import (
	"hash/maphash"
	"math/bits"
	"strconv"
	"strings"
	"unsafe"

	"github.com/srctl/srctl/internal/hugemem"
	"github.com/srctl/srctl/lakehouse"
	"github.com/srctl/srctl/lakehouse/proxylog"
)

// half is one log row reduced to what pairing and statistics need. Rows are decoded in parallel
// and reduced by the parser goroutines; only halves cross to the pairing goroutine.
type half struct {
	key    uint64 // hash of query_id
	ts     int64
	bytes  int64 // bytes_recv
	client uint64
	result uint64 // result_hash (its value when 16 hex digits, as srctl shadow writes it), 0 when absent
	setRes uint64 // result_set_hash, likewise
	rows   int64  // rows returned, -1 when not logged
	code   int32  // server error code (srctl shadow), 0 when none
	rowIdx int32  // index of the row in its batch while the batch is being paired, else -1
	group  uint32
	dur    float32
	srv    float32 // server_ms, when flagHasServer
	target proxylog.Target
	flags  uint8
	filter string // filter_reason of a filtered row (interned constant or a copy)
	qid    string // copied only for rows that can become examples (failures, drill-down)
	qidBuf [40]byte
	qidLen uint8
	hash   [16]byte // query_hash bytes of failed rows and of the drill-down group (profile joins)
	err    string   // error of a failed row
	text   string   // the SQL, drill-down group only
}

const (
	flagSuccess uint8 = 1 << iota
	flagFiltered
	flagHasHash
	flagDropped
	flagHasServer // srv holds srctl shadow's server-side time
)

func (h *half) ok() bool       { return h.flags&flagSuccess != 0 }
func (h *half) filtered() bool { return h.flags&flagFiltered != 0 }
func (h *half) dropped() bool  { return h.flags&flagDropped != 0 }

// queryID returns the row's query_id (possibly truncated to 40 bytes, enough for a UUID).
func (h *half) queryID() string {
	if h.qid != "" {
		return h.qid
	}
	return string(h.qidBuf[:h.qidLen])
}

// qidView is queryID without a copy, for comparisons only: valid while h is unchanged.
func (h *half) qidView() string {
	if h.qid != "" {
		return h.qid
	}
	return unsafe.String(&h.qidBuf[0], int(h.qidLen))
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

func internReason(b []byte) string { return internFrom(filterReasons, b) }

func internFrom(known []string, b []byte) string {
	for _, r := range known {
		if string(b) == r {
			return r
		}
	}
	if len(b) == 0 {
		return "unknown"
	}
	return strings.Clone(string(b))
}

// resultKey is a result hash as a number: its value when it is 16 hex digits (srctl shadow's
// form, so reports can print it back), else a hash of it.
func resultKey(b []byte) uint64 {
	if len(b) == 16 {
		if v, err := strconv.ParseUint(bytesView(b), 16, 64); err == nil && v != 0 {
			return v
		}
	}
	return hashBytes(b)
}

// dropReasons interns srctl shadow's drop reasons.
var dropReasons = []string{"queue_full", "shadow_unavailable", "shadow_login_failed", "too_large", "statement_not_prepared", "mirror_unavailable"}

// reduce turns a decoded row (index idx of its batch) into the half at h. It writes h in place:
// a half returned by value was built on the stack with narrow stores and copied out with wide
// loads, which the CPU cannot forward from the stores (half of reduce's time).
func reduce(h *half, r *proxylog.Row, idx int, group uint32, keepText bool) {
	*h = half{}
	h.key, h.ts, h.bytes, h.client = hashBytes(r.QueryID), r.TS, r.BytesRecv, hashBytes(r.ClientAddr)
	h.result, h.setRes, h.rows, h.rowIdx = resultKey(r.ResultHash), resultKey(r.ResultSetHash), -1, int32(idx)
	h.group, h.dur, h.target = group, float32(r.DurationMS), r.Target
	if r.Has&proxylog.HasRows != 0 {
		h.rows = r.Rows
	}
	if r.Has&proxylog.HasServerMS != 0 {
		h.srv, h.flags = float32(r.ServerMS), h.flags|flagHasServer
	}
	if r.Has&proxylog.HasErrorCode != 0 {
		h.code = int32(r.ErrorCode)
	}
	if r.Dropped {
		h.flags |= flagDropped
		h.filter = internFrom(dropReasons, r.DropReason)
	}
	h.qidLen = uint8(copy(h.qidBuf[:], r.QueryID))
	if r.Success || r.Has&proxylog.HasSuccess == 0 && r.Has&proxylog.HasError == 0 {
		h.flags |= flagSuccess // rows without success or error keys count as successes
	}
	if r.Success && r.Has&proxylog.HasErrorCode != 0 && r.ErrorCode != 0 {
		h.flags &^= flagSuccess // srctl's own proxy logs SQL errors with their code
	}
	if !h.ok() && !r.Dropped {
		msg := r.Error
		if r.ErrorEscaped {
			msg = proxylog.Unescape(msg)
		}
		h.err = string(msg)
		if h.err == "" {
			h.err = "(no error text)"
		}
		if decodeHex16(r.QueryHash, &h.hash) { // to match the failure with a FAILED profile
			h.flags |= flagHasHash
		}
	}
	if r.Filtered && !r.Dropped {
		h.flags |= flagFiltered
		h.filter = internReason(r.FilterReason)
	}
	if keepText {
		if decodeHex16(r.QueryHash, &h.hash) {
			h.flags |= flagHasHash
		}
		h.qid = string(r.QueryID)
		h.text = text(r)
		if !r.TextEscaped {
			h.text = strings.Clone(h.text)
		}
	}
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

// keySet is a set of query-id hashes with bounded memory: an open-addressing table of
// doneGeneration keys at most half full, and the previous generation kept for lookups when it
// fills. A duplicate is caught when fewer than ~1M pairs complete between the two copies (the
// producer's duplicates come from retried writes, seconds apart); memory stays at 2 x 16 MiB
// however long the logs are.
type keySet struct {
	cur, old []uint64
	// freeCur and freeOld give the tables' memory back: tables of 2 MiB and more are mapped
	// outside the Go heap on huge pages (hugemem), one page fault per 2 MiB instead of 512.
	freeCur, freeOld func()
	n                int
	touched          uint64 // keeps addAll's early loads from being optimised away
}

const doneGeneration = 1 << 20

// keySetStart is the first table's size: the table doubles while it is under its full size, so a
// short read does not pay for 16 MiB.
const keySetStart = 1 << 12

func newKeySet() *keySet { return &keySet{cur: make([]uint64, keySetStart), freeCur: func() {}} }

// release gives the tables' memory back; the set must not be used after it.
func (ks *keySet) release() {
	ks.freeCur()
	if ks.freeOld != nil {
		ks.freeOld()
	}
	ks.cur, ks.old, ks.n = nil, nil, 0
}

func (ks *keySet) add(k uint64) {
	if k == 0 {
		k = 1 // 0 marks an empty slot
	}
	if 2*ks.n >= len(ks.cur) && len(ks.cur) < 2*doneGeneration {
		old, freeOld := ks.cur, ks.freeCur
		ks.cur, ks.freeCur = hugemem.Uint64s(2 * len(old))
		ks.n = 0
		for _, o := range old {
			if o != 0 {
				ks.insert(o)
			}
		}
		freeOld()
	}
	if ks.n >= doneGeneration {
		if ks.old == nil {
			ks.old, ks.freeOld = hugemem.Uint64s(len(ks.cur))
		}
		ks.old, ks.cur = ks.cur, ks.old
		ks.freeOld, ks.freeCur = ks.freeCur, ks.freeOld
		clear(ks.cur)
		ks.n = 0
	}
	ks.insert(k)
}

// addAll adds keys. The full table (16 MiB) is far larger than the CPU's caches, so an insert
// waits for a cache and TLB miss at its key's slot; one at a time, those misses queue behind each
// other. addAll first reads the slots of a group of keys, independent loads whose misses overlap,
// and then inserts them from the cache.
func (ks *keySet) addAll(keys []uint64) {
	const group = 16
	for len(keys) > 0 {
		g := keys[:min(group, len(keys))]
		keys = keys[len(g):]
		if ks.n+len(g) >= doneGeneration || 2*(ks.n+len(g)) >= len(ks.cur) {
			for _, k := range g { // the table grows or turns a generation: one at a time
				ks.add(k)
			}
			continue
		}
		mask := uint64(len(ks.cur) - 1)
		var t uint64
		for _, k := range g {
			t |= ks.cur[max(k, 1)&mask]
		}
		ks.touched |= t
		for _, k := range g {
			ks.insert(max(k, 1)) // 0 marks an empty slot
		}
	}
}

func (ks *keySet) insert(k uint64) {
	mask := uint64(len(ks.cur) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		switch ks.cur[i] {
		case 0:
			ks.cur[i] = k
			ks.n++
			return
		case k:
			return
		}
	}
}

func (ks *keySet) has(k uint64) bool {
	if k == 0 {
		k = 1
	}
	return probe(ks.cur, k) || ks.old != nil && probe(ks.old, k)
}

func probe(t []uint64, k uint64) bool {
	mask := uint64(len(t) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		switch t[i] {
		case 0:
			return false
		case k:
			return true
		}
	}
}

// sink receives completed pairs: one per parser goroutine and one for the global pairer, merged
// at the end, so that no lock is taken per pair.
type sink struct {
	window        lakehouse.Window
	accs          []*groupAcc // by group id (ids are small and dense: a slice, not a map)
	sum           Summary
	firstNS       int64
	lastNS        int64
	drillID       uint32
	drillSet      bool
	shadowClients map[uint64]struct{}
	// seenClients is a direct-mapped cache in front of shadowClients: a log has few client
	// connections, each on many rows, and a map assignment per shadow row was 1% of diff.
	seenClients [64]uint64
	// rows is the batch being paired (parser sinks only), for the text of result examples.
	rows []proxylog.Row
}

// textOf is the SQL of h's row while its batch is being paired, else "".
func (sk *sink) textOf(h *half) string {
	if h.rowIdx < 0 || int(h.rowIdx) >= len(sk.rows) {
		return ""
	}
	return strings.Clone(text(&sk.rows[h.rowIdx]))
}

func newSink(w lakehouse.Window, drillID uint32, drillSet bool) *sink {
	return &sink{window: w, sum: Summary{FilteredBy: map[string]int64{}},
		drillID: drillID, drillSet: drillSet, shadowClients: map[uint64]struct{}{}}
}

func (sk *sink) inWindow(ts int64) bool {
	if !sk.window.Since.IsZero() && ts < sk.window.Since.UnixNano() {
		return false
	}
	if !sk.window.Until.IsZero() && ts > sk.window.Until.UnixNano() {
		return false
	}
	return true
}

// sawShadow remembers the client connection of a shadow row (connections without any are
// primary-only: the shadow login failed).
func (sk *sink) sawShadow(client uint64) {
	if slot := &sk.seenClients[client&63]; client != 0 && *slot != client {
		sk.shadowClients[client] = struct{}{}
		*slot = client
	}
}

// pair takes a completed pair in either order.
func (sk *sink) pair(a, b *half) {
	p, s := a, b
	if b.target == proxylog.Primary {
		p, s = b, a
	}
	if !sk.inWindow(p.ts) {
		sk.sum.OutsideWindow += 2
		return
	}
	if sk.firstNS == 0 || p.ts < sk.firstNS {
		sk.firstNS = p.ts
	}
	sk.lastNS = max(sk.lastNS, p.ts)
	sk.sum.Pairs++
	if int(p.group) >= len(sk.accs) {
		sk.accs = append(sk.accs, make([]*groupAcc, int(p.group)+1-len(sk.accs))...)
	}
	acc := sk.accs[p.group]
	if acc == nil {
		acc = &groupAcc{failures: map[failKey]*FailureGroup{}}
		sk.accs[p.group] = acc
	}
	acc.addPair(p, s, sk, sk.drillSet && p.group == sk.drillID)
}

// localPairer pairs the rows of one batch: a pair's two rows are usually logged close together,
// so most pairs complete here, in the parser goroutine, and only the rest (and the keys of
// completed pairs, for duplicate detection) go to the global pairer.
type localPairer struct {
	idx  batchIndex
	used []bool
}

// pairBatch pairs the halves of one batch, feeding completed pairs to sk, and returns the halves
// left unpaired (copies: hs is reused) and the keys of the pairs completed, appended to left
// and done.
func (lp *localPairer) pairBatch(hs []half, sk *sink, left []half, done []uint64) ([]half, []uint64) {
	lp.idx.reset(len(hs))
	lp.used = append(lp.used[:0], make([]bool, len(hs))...)
	for i := range hs {
		h := &hs[i]
		s := lp.idx.slot(h.key)
		switch j := s.idx; {
		case s.gen != lp.idx.gen:
			*s = batchSlot{key: h.key, gen: lp.idx.gen, idx: int32(i)}
		case j < 0 || hs[j].target == h.target:
			sk.sum.Duplicates++
			lp.used[i] = true
		default:
			lp.used[i], lp.used[j] = true, true
			s.idx = -1
			sk.pair(&hs[j], h)
			done = append(done, h.key)
		}
	}
	for i := range hs {
		if !lp.used[i] {
			left = append(left, hs[i])
			left[len(left)-1].rowIdx = -1 // its batch is gone by the time it pairs
		}
	}
	return left, done
}

// batchIndex maps the query-id hashes of one batch to their index in it (-1 once paired), in
// place of a Go map (which hashed the hash again, and was cleared for every batch): open
// addressing on the keys themselves, which are maphash values with a per-process seed and so
// spread evenly whatever the logs hold, at most half full. Each batch has its own generation: a
// slot of an older one is empty, so nothing is cleared between batches.
type batchIndex struct {
	slots []batchSlot
	mask  uint64
	gen   uint32
}

type batchSlot struct {
	key uint64
	gen uint32
	idx int32
}

// reset empties the index for a batch of n halves.
func (t *batchIndex) reset(n int) {
	if size := max(64, 1<<bits.Len(uint(2*n))); len(t.slots) < size {
		t.slots, t.mask, t.gen = make([]batchSlot, size), uint64(size-1), 0
	}
	t.gen++
	if t.gen == 0 { // wrapped after 2^32 batches: old stamps could match again
		clear(t.slots)
		t.gen = 1
	}
}

// slot returns key's slot: the one holding it, or the empty one where it goes.
func (t *batchIndex) slot(key uint64) *batchSlot {
	for i := key & t.mask; ; i = (i + 1) & t.mask {
		if s := &t.slots[i]; s.gen != t.gen || s.key == key {
			return s
		}
	}
}

// globalPairer matches the halves no batch could pair. It runs in one goroutine.
type globalPairer struct {
	// pending maps the key of each half waiting for its partner to its slot in halves: a map of
	// small values takes the runtime's fast path for 64-bit keys, which a map of ~200-byte
	// halves did not (its lookups, one per pair completed in a batch, were 1% of diff).
	pending map[uint64]int32
	halves  []half
	free    []int32 // slots of halves given back
	done    *keySet
	sink    *sink
}

func newGlobalPairer(sk *sink) *globalPairer {
	return &globalPairer{pending: map[uint64]int32{}, done: newKeySet(), sink: sk}
}

// keep copies h into a free slot of halves and returns the slot.
func (g *globalPairer) keep(h *half) int32 {
	if n := len(g.free); n > 0 {
		i := g.free[n-1]
		g.free = g.free[:n-1]
		g.halves[i] = *h
		return i
	}
	g.halves = append(g.halves, *h)
	return int32(len(g.halves) - 1)
}

// release empties slot i (no strings kept alive) and gives it back.
func (g *globalPairer) release(i int32) {
	g.halves[i] = half{}
	g.free = append(g.free, i)
}

// completed records pairs completed in a batch; a pending half with the same key is a duplicate.
func (g *globalPairer) completed(keys []uint64) {
	if len(g.pending) > 0 {
		for _, k := range keys {
			if i, ok := g.pending[k]; ok {
				delete(g.pending, k)
				g.release(i)
				g.sink.sum.Duplicates++
			}
		}
	}
	g.done.addAll(keys)
}

func (g *globalPairer) add(h *half) {
	if g.done.has(h.key) {
		g.sink.sum.Duplicates++
		return
	}
	i, ok := g.pending[h.key]
	if !ok {
		g.pending[h.key] = g.keep(h)
		return
	}
	other := &g.halves[i]
	if other.target == h.target {
		g.sink.sum.Duplicates++
		return
	}
	delete(g.pending, h.key)
	g.done.add(h.key)
	g.sink.pair(other, h)
	g.release(i)
}

// finish accounts for the rows left without a partner; shadowClients is every connection that
// had a shadow row. A connection with no shadow row at all and at least two unpaired primary
// rows is primary-only (the shadow login failed); a lone unpaired row is a dropped shadow row,
// since one row cannot tell the two apart.
func (g *globalPairer) finish(shadowClients map[uint64]struct{}) {
	c := &g.sink.sum
	orphans := map[uint64]int64{} // client -> unpaired primary rows, for clients without shadow rows
	for _, i := range g.pending {
		h := &g.halves[i]
		if !g.sink.inWindow(h.ts) || h.target != proxylog.Primary {
			continue
		}
		if _, seen := shadowClients[h.client]; !seen && h.client != 0 {
			orphans[h.client]++
		}
	}
	for _, i := range g.pending {
		switch h := &g.halves[i]; {
		case !g.sink.inWindow(h.ts):
			c.OutsideWindow++
		case h.target == proxylog.Shadow:
			c.UnpairedShadow++
		case orphans[h.client] >= 2:
			c.PrimaryOnlyConnectionRows++
		default:
			c.ShadowMissing++
		}
	}
	for _, n := range orphans {
		if n >= 2 {
			c.PrimaryOnlyConnections++
		}
	}
}
