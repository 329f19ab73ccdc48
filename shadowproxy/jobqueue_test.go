package shadowproxy

import (
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
)

// TestJobQueueKeepsOrderAndEverything: one producer (the session) and one consumer (the worker),
// bursts far beyond the old 64-slot channel: every job arrives once, in order.
func TestJobQueueKeepsOrderAndEverything(t *testing.T) {
	q := newJobQueue()
	const n = 200000
	var got []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			j, ok := q.pop()
			if !ok {
				return
			}
			got = append(got, j.qid)
		}
	})
	for i := range n {
		if !q.push(&job{qid: strconv.Itoa(i)}) {
			t.Fatalf("push %d refused before close", i)
		}
	}
	q.close()
	wg.Wait()
	if len(got) != n {
		t.Fatalf("%d jobs popped, want %d", len(got), n)
	}
	for i, id := range got {
		if id != strconv.Itoa(i) {
			t.Fatalf("job %d is %s: out of order", i, id)
		}
	}
	if q.push(&job{}) {
		t.Error("push after close accepted")
	}
}

// TestJobQueuePopWaitsAndCloseWakes: an empty queue blocks the worker until a push or a close.
func TestJobQueuePopWaitsAndCloseWakes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newJobQueue()
		popped := make(chan bool)
		go func() {
			_, ok := q.pop()
			popped <- ok
			_, ok = q.pop()
			popped <- ok
		}()
		synctest.Wait()
		select {
		case <-popped:
			t.Fatal("pop returned on an empty queue")
		default:
		}
		q.push(&job{qid: "a"})
		if !<-popped {
			t.Fatal("pop after push reported a closed queue")
		}
		synctest.Wait()
		q.close()
		if <-popped {
			t.Fatal("pop on a closed, empty queue reported a job")
		}
	})
}

// TestJobQueueCompacts: a long backlog consumed from the front does not keep its whole array.
func TestJobQueueCompacts(t *testing.T) {
	q := newJobQueue()
	for i := range 10000 {
		q.push(&job{qid: strconv.Itoa(i)})
	}
	for range 9000 {
		q.pop()
	}
	if q.len() != 1000 || q.head >= 1024 {
		t.Errorf("len %d head %d after popping 9000 of 10000: the consumed front is kept", q.len(), q.head)
	}
	for range 1000 {
		q.pop()
	}
	if q.len() != 0 || len(q.items) != 0 {
		t.Errorf("len %d, items %d after draining", q.len(), len(q.items))
	}
}
