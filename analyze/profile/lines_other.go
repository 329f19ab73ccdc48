//go:build !amd64

package profile

// lineMasksVector: no vector version here, lineMasks runs the Go one.
func lineMasksVector(b string, nl, blank []uint64) bool { return false }
