package analyze

import (
	"bytes"
	"hash/maphash"
	"strings"
	"sync"
	"unsafe"

	"github.com/srctl/srctl/analyze/fingerprint"
	"github.com/srctl/srctl/lakehouse/proxylog"
)

// Group-by modes of the diff.
const (
	GroupByEndpoint    = "endpoint"
	GroupByFingerprint = "fingerprint"
	GroupByQueryHash   = "query_hash"
)

// Endpoint sources beyond fingerprint's.
const (
	SourceCommand   = "command"    // COM_STMT_EXECUTE: no text to classify
	SourceQueryHash = "query_hash" // --group-by query_hash
)

// StmtExecuteGroup is the group of COM_STMT_EXECUTE rows: they carry no text, so they are
// counted apart from every endpoint.
const StmtExecuteGroup = "COM_STMT_EXECUTE"

// groupTable interns group names into small ids shared by all parser goroutines.
type groupTable struct {
	mu     sync.Mutex
	ids    map[string]uint32
	groups []groupInfo
}

type groupInfo struct {
	Name, Source, SampleSQL, FingerprintID string
}

func newGroupTable() *groupTable { return &groupTable{ids: map[string]uint32{}} }

// intern returns the id of name, adding it with its description on first sight. The strings
// are copied: callers may pass views of reused buffers.
func (t *groupTable) intern(name, source, sample, fpID string) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[name]; ok {
		if g := &t.groups[id]; g.Source == "" { // interned early by name (--endpoint)
			g.Source, g.SampleSQL, g.FingerprintID = source, truncate(strings.Clone(sample), 300), fpID
		}
		return id
	}
	id := uint32(len(t.groups))
	name = strings.Clone(name)
	t.ids[name] = id
	t.groups = append(t.groups, groupInfo{Name: name, Source: source, SampleSQL: truncate(strings.Clone(sample), 300), FingerprintID: fpID})
	return id
}

// sampleCand is a group's sample SQL candidate: the text of its earliest row (then smallest
// query id, then the primary's), so that the sample does not depend on which parser goroutine
// saw the group first.
type sampleCand struct {
	set    bool
	ts     int64
	target proxylog.Target
	qid    string
	sql    string
}

func (c *sampleCand) before(o *sampleCand) bool {
	return c.set && sampleBefore(c.ts, c.qid, c.target, o)
}

// sampleBefore reports whether a row (ts, query id, target) comes before candidate o: earlier,
// then the smaller query id, then the primary.
func sampleBefore(ts int64, qid string, target proxylog.Target, o *sampleCand) bool {
	switch {
	case !o.set:
		return true
	case ts != o.ts:
		return ts < o.ts
	case qid != o.qid:
		return qid < o.qid
	}
	return target < o.target
}

// samples holds one parser goroutine's best sample per group id.
type samples []sampleCand

// offer considers row r of group g. Only a better row's text is copied.
func (ss *samples) offer(g uint32, r *proxylog.Row) {
	if int(g) >= len(*ss) {
		*ss = append(*ss, make([]sampleCand, int(g)+1-len(*ss))...)
	}
	cur := &(*ss)[g]
	if !sampleBefore(r.TS, bytesView(r.QueryID), r.Target, cur) {
		return
	}
	*cur = sampleCand{set: true, ts: r.TS, target: r.Target, qid: string(r.QueryID), sql: strings.Clone(truncate(text(r), 300))}
}

// setSamples makes each group's sample the best of the parsers' candidates.
func (t *groupTable) setSamples(per []samples) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id := range t.groups {
		var best sampleCand
		for _, ss := range per {
			if id < len(ss) && ss[id].before(&best) {
				best = ss[id]
			}
		}
		if best.set {
			t.groups[id].SampleSQL = best.sql
		}
	}
}

func (t *groupTable) info(id uint32) groupInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.groups[id]
}

// classifier names the group of a row. One per parser goroutine: its caches need no lock.
type classifier struct {
	rules   *fingerprint.Rules
	groupBy string
	table   *groupTable
	// byText and recent cache group ids by a hash of the raw (still escaped) query text,
	// direct-mapped so they stay bounded and allocation-free. byText holds texts that needed the
	// full classification (untagged statements repeat whole texts: a hit saves a fingerprint);
	// recent holds texts the sqlcommenter fast path named, for their shadow row a few rows later.
	// They are apart because texts that embed a trace id are unique per query: in one table they
	// evicted the repeating untagged texts (on the real-shape bench data a fifth of the rows are
	// untagged, and most of their lookups missed).
	byText [textCacheSlots]textCacheEntry
	recent [recentCacheSlots]textCacheEntry
	seed   maphash.Seed
	// byName caches group name -> id for names the fast path returns (routes).
	byName map[string]uint32
	// byRoute caches group ids by the route as the text writes it (URL-encoded): the route of a
	// hot endpoint repeats on every row, and its decoding goes through a cache shared by all
	// goroutines (a sync.Map: ~4% of diff's CPU when every row looked it up).
	byRoute map[string]uint32
	// full counts the rows the caches could not answer (fingerprinted or matched against the
	// rules): how tests see that the caches work.
	full int
	// uniqueTexts scores how the text caches served texts that end in a comment lately: +1 for
	// a miss, -8 for a hit, within 0..uniqueMax. Texts that embed a trace id never repeat; then
	// hashing each one to look it up (and the slot's cache miss) is wasted, and from uniqueOn up
	// group names such a text by its tag alone. Every probeEvery-th one still goes through the
	// caches, so that texts that repeat again bring the score down.
	uniqueTexts int
	probes      uint32
}

const (
	uniqueOn   = 256
	uniqueMax  = 512
	probeEvery = 16
)

const classifierCacheMax = 1 << 16

// textCacheSlots bounds byText; recentCacheSlots bounds recent: 1024 slots span far more rows
// than usually separate a primary row from its shadow row in one log chunk.
const (
	textCacheSlots   = 1 << 12
	recentCacheSlots = 1 << 10
)

type textCacheEntry struct {
	hash uint64 // maphash of the text; 0 = empty slot
	size uint32 // the text's length, a cheap second check against hash collisions
	id   uint32
}

func newClassifier(rules *fingerprint.Rules, groupBy string, table *groupTable) *classifier {
	return &classifier{rules: rules, groupBy: groupBy, table: table, seed: maphash.MakeSeed(),
		byName: map[string]uint32{}, byRoute: map[string]uint32{}}
}

// group returns the group id of a decoded row (valid only during the batch).
func (c *classifier) group(r *proxylog.Row) uint32 {
	if string(r.Command) == StmtExecuteGroup && len(r.QueryText) == 0 { // srctl shadow logs the statement's text
		return c.named(StmtExecuteGroup, SourceCommand, "")
	}
	if c.groupBy == GroupByQueryHash {
		name := bytesView(r.QueryHash)
		if name == "" {
			name = "(no hash)"
		}
		return c.named(name, SourceQueryHash, text(r))
	}
	commented := c.groupBy == GroupByEndpoint && fingerprint.EndsInComment(bytesView(r.QueryText))
	tagTried := false
	if commented && c.uniqueTexts >= uniqueOn {
		if c.probes++; c.probes%probeEvery != 0 {
			if id, ok := c.tagged(r); ok {
				return id
			}
			tagTried = true
		}
	}
	h := maphash.Bytes(c.seed, r.QueryText) | 1 // never 0, the empty-slot mark
	size := uint32(len(r.QueryText))
	slot, near := &c.byText[h&(textCacheSlots-1)], &c.recent[h&(recentCacheSlots-1)]
	switch {
	case slot.hash == h && slot.size == size:
		c.noteCache(commented, true)
		return slot.id
	case near.hash == h && near.size == size:
		c.noteCache(commented, true)
		return near.id
	}
	c.noteCache(commented, false)
	var id uint32
	tagged := false
	if !tagTried {
		id, tagged = c.tagged(r)
	}
	if !tagged {
		id = c.classifyFully(r)
	} else {
		slot = near
	}
	*slot = textCacheEntry{hash: h, size: size, id: id}
	return id
}

// noteCache scores a text cache lookup of a text that ends in a comment (see uniqueTexts).
func (c *classifier) noteCache(commented, hit bool) {
	switch {
	case !commented:
	case hit:
		c.uniqueTexts = max(c.uniqueTexts-8, 0)
	default:
		c.uniqueTexts = min(c.uniqueTexts+1, uniqueMax)
	}
}

// groupAfter is group for a row logged right after prev (nil at a batch's start), whose group is
// prevGroup. A mirrored query's two rows are usually adjacent and carry the same text; as the
// group depends on the text alone (outside query-hash grouping), an equal text takes prev's group
// and is compared instead of hashed: on texts that embed a trace id, every shadow row.
func (c *classifier) groupAfter(r, prev *proxylog.Row, prevGroup uint32) uint32 {
	if prev != nil && c.groupBy != GroupByQueryHash && len(r.QueryText) > 0 && bytes.Equal(r.QueryText, prev.QueryText) {
		return prevGroup
	}
	return c.group(r)
}

// tagged is group's sqlcommenter fast path, without the text caches: the group of a row whose
// text ends in a tag that names an endpoint, when grouping by endpoint. ok is false for any
// other row, which classifyFully names.
func (c *classifier) tagged(r *proxylog.Row) (id uint32, ok bool) {
	if c.groupBy == GroupByEndpoint && (!r.TextEscaped || r.TextHTMLEscapes) {
		// The escaped text differs from the SQL only in <, > and & (Go's encoder writes them as
		// \u003c, \u003e, \u0026), which do not matter to the tag parser: no unescaping needed.
		raw := bytesView(r.QueryText)
		if tag, ok := fingerprint.TrailingTag(raw); ok {
			if id, ok := c.byRoute[tag.Route]; ok {
				return id, true // the raw route seen before: no decoding, no shared cache
			}
			if ep, ok := tag.Endpoint(); ok {
				id := c.named(ep, fingerprint.SourceSQLCommenter, text(r))
				if tag.Route != "" {
					if len(c.byRoute) >= classifierCacheMax {
						clear(c.byRoute)
					}
					c.byRoute[strings.Clone(tag.Route)] = id
				}
				return id, true
			}
		}
	}
	return 0, false
}

// classifyFully names a row the fast path did not: by its fingerprint, or by the rules.
func (c *classifier) classifyFully(r *proxylog.Row) uint32 {
	c.full++
	sql := text(r)
	if c.groupBy == GroupByFingerprint {
		fp := fingerprint.Fingerprint(sql)
		fid := fingerprint.ID(fp)
		return c.table.intern("fp:"+fid, fingerprint.SourceFingerprint, sql, fid)
	}
	cl := c.rules.Classify(sql)
	return c.table.intern(cl.Endpoint, cl.Source, sql, cl.FingerprintID)
}

func (c *classifier) named(name, source, sample string) uint32 {
	if id, ok := c.byName[name]; ok {
		return id
	}
	id := c.table.intern(name, source, sample, "")
	if len(c.byName) >= classifierCacheMax {
		clear(c.byName)
	}
	c.byName[strings.Clone(name)] = id
	return id
}

// text is the row's SQL as a string: a view of the buffer when unescaped (no copy), else the
// unescaped copy.
func text(r *proxylog.Row) string {
	if r.TextEscaped {
		return string(proxylog.Unescape(r.QueryText))
	}
	return bytesView(r.QueryText)
}

// bytesView looks at b as a string without copying; the string must not outlive b's buffer.
func bytesView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
