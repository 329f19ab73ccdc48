//go:build !unix

package shadowproxy

// raiseFileLimit has nothing to raise where there is no open-files limit (Windows: sockets are
// handles, bounded by memory).
func raiseFileLimit(want uint64) uint64 { return want }
