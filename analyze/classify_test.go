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
