//go:build linux

package proxylog

import (
	"os"
	"syscall"
)

// mapFile maps a local file read-only so that parsers read the page cache in place instead of
// copying it through read(2): at 1 GB/s the copy alone costs a third of a core. MAP_POPULATE
// faults the pages in up front, in one call.
func mapFile(path string) (data []byte, unmap func() error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := st.Size()
	if size == 0 || size != int64(int(size)) {
		return nil, nil, errNoMap
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return nil, nil, errNoMap
	}
	return data, func() error { return syscall.Munmap(data) }, nil
}
