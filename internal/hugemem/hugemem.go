// Package hugemem allocates large pointer-free tables outside the Go heap, on transparent huge
// pages where the kernel offers them.
//
// Why: on the virtual machines srctl runs on, the first touch of a fresh 4 KiB page costs ~10 us
// (a page fault and an exit to the hypervisor): 100 MB of new memory costs ~0.3 s of CPU, about a
// tenth of what srctl diff spends on a million queries. A 2 MiB huge page costs one fault for 512
// of those pages. The Go runtime does not ask for huge pages (it stopped doing so in Go 1.21.1, for
// long-running services whose memory it returns to the OS), so tables that are large, live for one
// command and hold no pointers are mapped here instead.
package hugemem

// hugePage is the size of an x86-64 or arm64 transparent huge page.
const hugePage = 2 << 20

// MinBytes is the smallest table worth mapping: below it, Uint64s allocates on the Go heap.
const MinBytes = hugePage

// Uint64s returns a zeroed slice of n uint64 and the function that gives its memory back. The
// slice must not be used after release (its pages are unmapped: a use faults); release may be
// called more than once. Tables under MinBytes, and any table where mapping fails or the
// platform has no huge pages, come from the Go heap (release then does nothing).
func Uint64s(n int) (s []uint64, release func()) {
	if n*8 >= MinBytes {
		if s, release, ok := mapUint64s(n); ok {
			return s, release
		}
	}
	s = make([]uint64, n)
	// A write to every page first, for the reason mapped tables are populated: memory fresh from
	// the OS would otherwise see a probe's read map the zero page, and the next write copy it.
	for i := 0; i < len(s); i += 4096 / 8 {
		s[i] = 0
	}
	return s, func() {}
}
