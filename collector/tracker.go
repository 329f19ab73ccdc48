package collector

import "sync"

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
	t.order.push(eventTime)
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
		t.order.pop()
	}
	return t.maxSeen
}

// int64Heap is a min-heap of event times. Typed rather than through container/heap, whose
// interface boxes every int64 it pushes and pops (an allocation each, per record collected).
type int64Heap []int64

func (h int64Heap) Len() int { return len(h) }

func (h *int64Heap) push(v int64) {
	*h = append(*h, v)
	a := *h
	for i := len(a) - 1; i > 0; {
		parent := (i - 1) / 2
		if a[parent] <= a[i] {
			break
		}
		a[parent], a[i] = a[i], a[parent]
		i = parent
	}
}

// pop removes the smallest value.
func (h *int64Heap) pop() {
	a := *h
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	*h = a
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < n && a[l] < a[small] {
			small = l
		}
		if r < n && a[r] < a[small] {
			small = r
		}
		if small == i {
			return
		}
		a[i], a[small] = a[small], a[i]
		i = small
	}
}
