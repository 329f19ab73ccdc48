package shadowproxy

import "sync"

// jobQueue is one connection's FIFO of copies for its mirror worker. It has no fixed number of
// slots: what bounds it is bytes (the connection's and the whole proxy's, checked by the caller
// before push) and the time a copy may wait (checked by the worker), so that a burst, or a
// shadow that stalls for seconds, is absorbed and replayed in order instead of dropped. Push
// never blocks the client's path.
type jobQueue struct {
	mu     sync.Mutex
	items  []*job
	head   int // items[head:] are queued
	closed bool
	wake   chan struct{} // 1-buffered: set on push and close, for a worker waiting on an empty queue
}

func newJobQueue() *jobQueue { return &jobQueue{wake: make(chan struct{}, 1)} }

// push appends j; false once the queue is closed.
func (q *jobQueue) push(j *job) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, j)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// pop returns the oldest job, waiting while the queue is empty; false when it is closed and
// drained.
func (q *jobQueue) pop() (*job, bool) {
	for {
		q.mu.Lock()
		if q.head < len(q.items) {
			j := q.items[q.head]
			q.items[q.head] = nil
			q.head++
			switch {
			case q.head == len(q.items): // empty: reuse the array from its start
				q.items, q.head = q.items[:0], 0
			case q.head >= 1024 && q.head*2 >= len(q.items): // mostly consumed: move the rest down
				n := copy(q.items, q.items[q.head:])
				clear(q.items[n:])
				q.items, q.head = q.items[:n], 0
			}
			q.mu.Unlock()
			return j, true
		}
		if q.closed {
			q.mu.Unlock()
			return nil, false
		}
		if cap(q.items) > 4096 { // a burst is over: give its array back
			q.items, q.head = nil, 0
		}
		q.mu.Unlock()
		<-q.wake
	}
}

// len is the number of jobs queued.
func (q *jobQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

// close ends the queue: pushes fail, pop returns what is queued and then false.
func (q *jobQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
