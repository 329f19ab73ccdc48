package collector

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// writeAll writes the buffers in order with writev, continuing after short writes.
func writeAll(f *os.File, iov [][]byte) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for {
			for len(iov) > 0 && len(iov[0]) == 0 {
				iov = iov[1:]
			}
			if len(iov) == 0 {
				return true
			}
			n, err := unix.Writev(int(fd), iov)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				werr = err
				return true
			}
			if n == 0 {
				werr = io.ErrShortWrite
				return true
			}
			for n > 0 { // drop what was written
				if n >= len(iov[0]) {
					n -= len(iov[0])
					iov = iov[1:]
				} else {
					iov[0] = iov[0][n:]
					n = 0
				}
			}
		}
	})
	if err != nil {
		return err
	}
	return werr
}
