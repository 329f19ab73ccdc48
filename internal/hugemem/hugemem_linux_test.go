package hugemem

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/srctl/srctl/internal/testenv"
)

// TestMappedTablesArePopulated: a mapped table's pages are in memory before anything touches
// them (MADV_POPULATE_WRITE), so that a first probe neither maps the shared zero page nor
// copies it on the write after. Kernels before 5.14 refuse the advice; the table then works
// without it, and this test skips (fails under SRCTL_TEST_DISALLOW_SKIP=1).
func TestMappedTablesArePopulated(t *testing.T) {
	probe, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	supported := unix.Madvise(probe, unix.MADV_POPULATE_WRITE) == nil
	unix.Munmap(probe)
	if !supported {
		testenv.SkipOrFail(t, "this kernel has no MADV_POPULATE_WRITE (Linux 5.14)")
		return
	}
	s, release, ok := mapUint64s(3*MinBytes/8 + 5)
	if !ok {
		t.Fatal("mapping a table failed")
	}
	defer release()
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*8)
	pages := make([]byte, (len(mem)+4095)/4096)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)&^4095), uintptr(unsafe.Pointer(&pages[0]))); errno != 0 {
		t.Fatal(errno)
	}
	for i, p := range pages[:len(mem)/4096] {
		if p&1 == 0 {
			t.Fatalf("page %d of %d is not in memory before the table is touched", i, len(mem)/4096)
		}
	}
}
