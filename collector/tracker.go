package collector

import (
	"container/heap"
	"sync"
)

// cursorTracker computes the durable cursor of one FE. Terminal entries are added when polled and
// marked done when their record is durable (or when it is decided that none will be written).
// The durable cursor is just below the oldest entry not yet done, or the newest entry polled when
// nothing is pending: everything at or below it can be skipped after a restart.
type cursorTracker struct {
	mu      sync.Mutex
	pending map[int64]struct{}
	above   map[int64]string // done entries that may be above the durable cursor: eventTime -> query id
	order   int64Heap        // may hold done entries; they are dropped lazily
	maxSeen int64
}

func newCursorTracker(start int64) *cursorTracker {
	return &cursorTracker{pending: map[int64]struct{}{}, above: map[int64]string{}, maxSeen: start}
}

func (t *cursorTracker) add(eventTime int64) {
	t.mu.Lock()
	t.pending[eventTime] = struct{}{}
	heap.Push(&t.order, eventTime)
	t.mu.Unlock()
}

// done marks an entry durable; queryID is remembered while the entry is above the cursor.
func (t *cursorTracker) done(eventTime int64, queryID string) {
	t.mu.Lock()
	delete(t.pending, eventTime)
	if queryID != "" {
		t.above[eventTime] = queryID
	}
	t.mu.Unlock()
}

// maxAboveIDs bounds the ids kept in a checkpoint; beyond it a crash repeats more records.
const maxAboveIDs = 100_000

// durableWithIDs is durable plus the ids of done entries above it.
func (t *cursorTracker) durableWithIDs() (int64, []string) {
	cur := t.durable()
	t.mu.Lock()
	defer t.mu.Unlock()
	var ids []string
	for et, id := range t.above {
		if et <= cur {
			delete(t.above, et)
		} else if len(ids) < maxAboveIDs {
			ids = append(ids, id)
		}
	}
	return cur, ids
}

// seen records that every entry up to eventTime has been polled (and the pending ones added).
func (t *cursorTracker) seen(eventTime int64) {
	t.mu.Lock()
	if eventTime > t.maxSeen {
		t.maxSeen = eventTime
	}
	t.mu.Unlock()
}

// rewind moves the polled horizon back (clock jump): the durable cursor never passes it.
func (t *cursorTracker) rewind(eventTime int64) {
	t.mu.Lock()
	t.maxSeen = eventTime
	t.mu.Unlock()
}

// durable is the cursor that may be checkpointed.
func (t *cursorTracker) durable() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.order.Len() > 0 {
		if _, ok := t.pending[t.order[0]]; ok {
			return min(t.order[0]-1, t.maxSeen)
		}
		heap.Pop(&t.order)
	}
	return t.maxSeen
}

type int64Heap []int64

func (h int64Heap) Len() int           { return len(h) }
func (h int64Heap) Less(i, j int) bool { return h[i] < h[j] }
func (h int64Heap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *int64Heap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *int64Heap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
