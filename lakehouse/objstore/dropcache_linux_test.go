package objstore

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestWriteFileAtomicLeavesNoPagesCached: a file srctl wrote is not kept in the page cache once it
// is synced (dropCache), so that the next file's writes reuse its pages instead of taking fresh
// ones. Checked with mincore on a disk-backed directory: on tmpfs the cache is the file itself.
func TestWriteFileAtomicLeavesNoPagesCached(t *testing.T) {
	dir := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type == unix.TMPFS_MAGIC {
		// The package's own directory is on the checkout's disk.
		var err error
		if dir, err = os.MkdirTemp(".", ".dropcache-test-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := unix.Statfs(dir, &st); err != nil || st.Type == unix.TMPFS_MAGIC {
			t.Fatalf("no disk-backed directory to test in (statfs: %v)", err)
		}
	}
	name := filepath.Join(dir, "object.jsonl")
	data := make([]byte, 4<<20)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	if err := WriteFileAtomic(name, data); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, len(data), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(data)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	resident := 0
	for _, v := range vec {
		resident += int(v & 1)
	}
	if resident > len(vec)/10 {
		t.Fatalf("%d of the file's %d pages are still in the page cache after it was written", resident, len(vec))
	}
}
