//go:build !linux

package collector

import "os"

// writeAll writes the buffers in order (one write each where writev is not used).
func writeAll(f *os.File, iov [][]byte) error {
	for _, b := range iov {
		if _, err := f.Write(b); err != nil {
			return err
		}
	}
	return nil
}
