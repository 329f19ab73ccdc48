package hugemem

import (
	"runtime"
	"testing"
	"unsafe"
)

// TestUint64sZeroedWritableReleased: tables of every size class come back zeroed and writable end
// to end, and release can be called twice.
func TestUint64sZeroedWritableReleased(t *testing.T) {
	for _, n := range []int{0, 1, 1000, MinBytes/8 - 1, MinBytes / 8, 3*MinBytes/8 + 5, 2 << 20} {
		s, release := Uint64s(n)
		if len(s) != n {
			t.Fatalf("Uint64s(%d) has %d elements", n, len(s))
		}
		for i := range s {
			if s[i] != 0 {
				t.Fatalf("Uint64s(%d)[%d] = %d, want 0", n, i, s[i])
			}
			s[i] = uint64(i) + 1
		}
		for i := range s {
			if s[i] != uint64(i)+1 {
				t.Fatalf("Uint64s(%d)[%d] lost its value", n, i)
			}
		}
		release()
		release()
	}
}

// TestLargeTablesAreMappedOnHugePageBoundaries: on Linux a table of MinBytes or more is mapped
// (not on the Go heap) and starts on a 2 MiB boundary, where the kernel can back it with huge
// pages; elsewhere it comes from the heap.
func TestLargeTablesAreMappedOnHugePageBoundaries(t *testing.T) {
	s, release, ok := mapUint64s(MinBytes/8 + 1)
	if runtime.GOOS != "linux" {
		if ok {
			t.Fatal("mapped on a platform without huge pages")
		}
		return
	}
	if !ok {
		t.Fatal("mapping a table failed")
	}
	defer release()
	if addr := uintptr(unsafe.Pointer(&s[0])); addr%hugePage != 0 {
		t.Errorf("a %d-byte table starts at %#x, not on a 2 MiB boundary", len(s)*8, addr)
	}
	s[len(s)-1] = 1 // the whole length is mapped
}
