package hugemem

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapUint64s maps n uint64 of anonymous memory aligned to a huge page and advises the kernel to
// back it with huge pages (with transparent_hugepage set to "madvise", the common default, only
// advised memory gets them; with "never" the advice is ignored and the table is as a heap one).
func mapUint64s(n int) ([]uint64, func(), bool) {
	size := (n*8 + hugePage - 1) &^ (hugePage - 1)
	// One huge page more than needed, so that an aligned start exists inside the mapping: a huge
	// page must start on a 2 MiB boundary, which mmap does not promise.
	raw, err := unix.Mmap(-1, 0, size+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, nil, false
	}
	skip := int(-uintptr(unsafe.Pointer(&raw[0])) & (hugePage - 1))
	mem := raw[skip : skip+size]
	_ = unix.Madvise(mem, unix.MADV_HUGEPAGE) // advice only: without huge pages the table still works
	// Fault every page in now, writable, in one call. A table's first access to a page is
	// nearly always a read (a probe): that mapped the shared zero page, and the write after it
	// copied it, which flushes the other CPUs' TLBs (an interrupt to each); on a virtual
	// machine the faults and the flushes cost more than zeroing the memory. Hash tables touch
	// every page they have soon anyway. Kernels before 5.14 refuse the advice: then pages
	// fault in as they are touched.
	_ = unix.Madvise(mem, unix.MADV_POPULATE_WRITE)
	var once sync.Once
	release := func() { once.Do(func() { _ = unix.Munmap(raw) }) }
	return unsafe.Slice((*uint64)(unsafe.Pointer(&mem[0])), n), release, true
}
