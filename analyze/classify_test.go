package analyze

import (
	"fmt"
	"testing"

	"github.com/srctl/srctl/lakehouse/proxylog"
)

// TestClassifierKeepsRepeatedTextsCached: texts with a trace id in their sqlcommenter tag are
// unique per query; thousands of them between two rows of the same untagged statement must not
// evict that statement from the cache (it would be fingerprinted again), and each tagged text's
// second row (its shadow) must still be answered from the cache.
func TestClassifierKeepsRepeatedTextsCached(t *testing.T) {
	c := newClassifier(nil, GroupByEndpoint, newGroupTable())
	row := func(sql string) *proxylog.Row {
		return &proxylog.Row{Command: []byte("COM_QUERY"), QueryText: []byte(sql), Target: proxylog.Primary}
	}
	untagged := row("SELECT status, count(*) FROM t90 WHERE created_at >= '2026-03-03' GROUP BY status")
	first := c.group(untagged)
	if c.full != 1 {
		t.Fatalf("first untagged row: %d full classifications, want 1", c.full)
	}
	routes := map[uint32]bool{}
	for i := range 5 * textCacheSlots {
		sql := fmt.Sprintf("SELECT * FROM t WHERE id = %d /*route='%%2Fapi%%2Fr%d',traceparent='00-%032x-00f067aa0ba902b7-01'*/", i, i%7, i)
		id := c.group(row(sql))
		if again := c.group(row(sql)); again != id {
			t.Fatalf("row %d: shadow row's group %d, primary's %d", i, again, id)
		}
		routes[id] = true
		if i%100 == 0 {
			if got := c.group(untagged); got != first {
				t.Fatalf("untagged row's group changed: %d then %d", first, got)
			}
		}
	}
	if len(routes) != 7 {
		t.Errorf("%d groups for 7 routes", len(routes))
	}
	if c.full != 1 {
		t.Errorf("%d full classifications, want 1: the untagged statement left the cache, or a tagged text missed the fast path", c.full)
	}
}

// TestGroupAfterReusesTheTwinsGroup: a row whose text equals the row before it takes that row's
// group without classifying (a sentinel group shows it was not recomputed); any other row, the
// first of a batch, an empty text or query-hash grouping is classified.
func TestGroupAfterReusesTheTwinsGroup(t *testing.T) {
	const sentinel = 999
	row := func(sql, hash string) *proxylog.Row {
		return &proxylog.Row{Command: []byte("COM_QUERY"), QueryText: []byte(sql), QueryHash: []byte(hash), Target: proxylog.Shadow}
	}
	tagged := "SELECT 1 /*route='%2Fapi%2Fa'*/"
	c := newClassifier(nil, GroupByEndpoint, newGroupTable())
	want := c.group(row(tagged, ""))
	if got := c.groupAfter(row(tagged, ""), row(tagged, ""), sentinel); got != sentinel {
		t.Errorf("equal text: group %d, want the previous row's %d", got, sentinel)
	}
	for name, prev := range map[string]*proxylog.Row{"batch start": nil, "other text": row("SELECT 2 /*route='%2Fapi%2Fb'*/", "")} {
		if got := c.groupAfter(row(tagged, ""), prev, sentinel); got != want {
			t.Errorf("%s: group %d, want %d", name, got, want)
		}
	}
	if got := c.groupAfter(row("", ""), row("", ""), sentinel); got == sentinel {
		t.Error("empty texts (statements srctl shadow did not log): the previous group was reused")
	}
	byHash := newClassifier(nil, GroupByQueryHash, newGroupTable())
	wantHash := byHash.group(row(tagged, "aaaa"))
	if got := byHash.groupAfter(row(tagged, "aaaa"), row(tagged, "bbbb"), sentinel); got != wantHash {
		t.Errorf("query-hash grouping: group %d, want its own hash's %d", got, wantHash)
	}
}

// TestClassifierSkipsTheCacheForUniqueTexts: after many tagged texts that never repeat (a trace
// id in each), group names them by their tag without the text caches, with the same groups;
// when texts repeat again, the probes that still use the caches hit and turn the caches back on.
// Untagged texts, and texts whose comment is not a tag, are grouped as before throughout.
func TestClassifierSkipsTheCacheForUniqueTexts(t *testing.T) {
	table := newGroupTable()
	c := newClassifier(nil, GroupByEndpoint, table)
	row := func(sql string) *proxylog.Row {
		return &proxylog.Row{Command: []byte("COM_QUERY"), QueryText: []byte(sql), Target: proxylog.Primary}
	}
	want := map[int]uint32{}
	for r := range 7 {
		want[r] = newClassifier(nil, GroupByEndpoint, table).group(row(fmt.Sprintf("SELECT 1 /*route='%%2Fapi%%2Fr%d'*/", r)))
	}
	untagged := row("SELECT status FROM t90 WHERE a = 1")
	hint := row("SELECT 1 /*+ SET_VAR(query_timeout=1) */")
	firstUntagged, firstHint := c.group(untagged), c.group(hint)
	unique := func(n, from int) {
		for i := from; i < from+n; i++ {
			sql := fmt.Sprintf("SELECT * FROM t WHERE id = %d /*route='%%2Fapi%%2Fr%d',traceparent='00-%032x-00f067aa0ba902b7-01'*/ ;", i, i%7, i)
			if got := c.group(row(sql)); got != want[i%7] {
				t.Fatalf("text %d: group %d, want %d", i, got, want[i%7])
			}
			if i%50 == 0 && (c.group(untagged) != firstUntagged || c.group(hint) != firstHint) {
				t.Fatalf("text %d: an untagged text changed group", i)
			}
		}
	}
	unique(uniqueOn-1, 0)
	if c.uniqueTexts >= uniqueOn {
		t.Fatalf("score %d after %d misses: on too early", c.uniqueTexts, uniqueOn-1)
	}
	unique(5*uniqueOn, uniqueOn)
	if c.uniqueTexts < uniqueOn {
		t.Fatalf("score %d after %d unique texts: the caches are still used", c.uniqueTexts, 6*uniqueOn)
	}
	// Repeating texts: the probes find them cached, and the score falls below uniqueOn.
	for i := range 4 * probeEvery * uniqueMax / 8 {
		sql := fmt.Sprintf("SELECT 2 /*route='%%2Fapi%%2Fr%d'*/", i%7)
		if got := c.group(row(sql)); got != want[i%7] {
			t.Fatalf("repeated text %d: group %d, want %d", i, got, want[i%7])
		}
	}
	if c.uniqueTexts >= uniqueOn {
		t.Errorf("score %d after texts repeated: the caches stay off", c.uniqueTexts)
	}
	if c.full != 2 {
		t.Errorf("%d full classifications, want 2 (the untagged text and the hint, once each)", c.full)
	}
}
