//go:build !amd64

package jsonstr

// copyPlain has no vector version here: it copies nothing, and the caller's word-at-a-time loop
// does all the work.
func copyPlain(dst []byte, src string, escapeHTML bool) (read, written int) { return 0, 0 }
